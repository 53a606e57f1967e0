/**
 * The dashboard page: builds the cards once, keeps the shown run's data (series.ts), takes checked
 * messages from the extension and redraws what changed at most once per animation frame. The sampling
 * card plays the chain with the shared ChainPlayer, and 2D runs get the shared score-field view, whose
 * backend requests go through the preview pages' relay (webview/common).
 */
import type uPlot from 'uplot';
import * as P from '../../protocol/protocol';
import { ChainPlayer } from '../common/chain';
import { ScoreFieldView } from '../common/field';
import { PageRequests } from '../common/requests';
import { Chart, Marker, Theme, axis, axisFont, logSplits, logTicks, markerPlugin, readTheme, ticks, withAlpha } from './charts';
import { h, setAttr, setText, show } from './dom';
import {
  FrameImage, LevelAxis, LossSeries, PerLevelHistory, PointBox, clampSmoothing, formatCount, formatDuration,
  formatNumber, perLevelSeries, pointBox, positiveOrNull, schedulePlots,
} from './series';

/** What `acquireVsCodeApi()` returns. */
export interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

type Part = 'header' | 'loss' | 'levels' | 'samples' | 'sampling' | 'field' | 'schedule' | 'layout';

const STATE_LABEL: Record<P.RunState | 'unknown', string> = {
  running: 'Running', finished: 'Finished', stopped: 'Stopped', failed: 'Failed', unknown: 'Unknown',
};

/** How many per-level lines "over time" shows. */
const LEVEL_LINES = 5;

/** The shown sampling job: its last level report, and how it ended. */
interface SamplingInfo extends Omit<P.SamplingProgressParams, 'runId' | 'snapshot'> {
  ended: P.JobEndState | null;
  message: string | null;
  kind: P.JobKind;
}

// ---------------------------------------------------------------------------------------------------
// Sample view: a PNG grid (pixelated, integer-scaled) or a 2D scatter (uPlot, equal aspect)
// ---------------------------------------------------------------------------------------------------

class SampleView {
  readonly el: HTMLElement;
  readonly img: HTMLImageElement;
  private readonly plotEl: HTMLElement;
  private readonly note: HTMLElement;
  private chart: Chart | null = null;
  private box: PointBox = { cx: 0, cy: 0, r: 1, outside: 0, n: 0 };
  private png: string | null = null;
  private points: number[] | null = null;
  private readonly ro: ResizeObserver;

  constructor(private theme: Theme, private readonly maxHeight: number, label: string) {
    this.img = h('img', { class: 'sample-img', alt: label, decoding: 'async' });
    this.img.hidden = true;
    this.plotEl = h('div', { class: 'scatter', role: 'img', 'aria-label': label });
    this.plotEl.hidden = true;
    this.note = h('div', { class: 'sample-note' });
    this.el = h('div', { class: 'sample-view' }, this.img, this.plotEl, this.note);
    this.img.addEventListener('load', () => this.fitImage());
    this.ro = new ResizeObserver(() => this.fitImage());
    this.ro.observe(this.el);
  }

  /** Integer upscaling that fits the card (pixel art stays crisp); shrinks to fit when larger. */
  private fitImage(): void {
    const nw = this.img.naturalWidth;
    const nh = this.img.naturalHeight;
    const avail = this.el.clientWidth;
    if (!nw || !nh || !avail) return;
    // Integer upscaling keeps pixels square; between 1x and 2x a fractional scale (still nearest
    // neighbour) uses the card better than staying at 1x.
    const fit = Math.min(avail / nw, this.maxHeight / nh);
    const scale = fit >= 2 ? Math.floor(fit) : fit;
    const w = `${Math.max(1, Math.floor(nw * scale))}px`;
    if (this.img.style.width !== w) this.img.style.width = w;
  }

  setTheme(t: Theme): void {
    this.theme = t;
    this.chart?.rebuild(t);
  }

  setAlt(text: string): void {
    setAttr(this.img, 'alt', text);
    setAttr(this.plotEl, 'aria-label', text);
  }

  clear(): void {
    this.png = null;
    this.points = null;
    this.img.hidden = true;
    this.img.removeAttribute('src');
    this.plotEl.hidden = true;
    setText(this.note, '');
  }

  show(image: FrameImage | null): void {
    if (!image) return this.clear();
    if (image.png !== undefined) {
      this.plotEl.hidden = true;
      this.img.hidden = false;
      if (image.png !== this.png) {
        this.png = image.png;
        this.img.src = `data:image/png;base64,${image.png}`;
      }
      setText(this.note, '');
      return;
    }
    if (image.points !== undefined) {
      this.img.hidden = true;
      this.plotEl.hidden = false;
      if (image.points === this.points) return;
      this.points = image.points;
      this.box = pointBox(image.points);
      const pts: [number, number][] = [];
      for (let i = 0; i + 1 < image.points.length; i += 2) pts.push([image.points[i]!, image.points[i + 1]!]);
      pts.sort((a, b) => a[0] - b[0]);
      const data: uPlot.AlignedData = [pts.map((p) => p[0]), pts.map((p) => p[1])];
      if (!this.chart) this.chart = new Chart(this.plotEl, (t, size) => this.scatterOptions(t, size), this.theme, (w) => w - 52 + 30);
      this.chart.setData(data);
      this.chart.redraw();
      setText(this.note, this.box.outside ? `${formatCount(this.box.outside)} of ${formatCount(this.box.n)} points lie outside the view` : '');
    }
  }

  private scatterOptions(t: Theme, size: { width: number; height: number }): uPlot.Options {
    const range = (c: () => number) => (): uPlot.Range.MinMax => [c() - this.box.r, c() + this.box.r];
    return {
      ...size,
      padding: [8, 8, 0, 0],
      scales: { x: { time: false, range: range(() => this.box.cx) }, y: { range: range(() => this.box.cy) } },
      axes: [axis(t, { size: 30, values: ticks }), axis(t, { size: 52, values: ticks })],
      legend: { show: false },
      cursor: { show: false },
      series: [
        {},
        {
          label: 'samples',
          stroke: t.blue,
          paths: () => null,
          points: { show: true, size: 3.5, space: 0, width: 0, fill: withAlpha(t.blue, t.highContrast ? 1 : 0.65), stroke: t.blue },
        },
      ],
    };
  }

  get hasImage(): boolean {
    return !this.img.hidden && this.img.naturalWidth > 0;
  }
}

// ---------------------------------------------------------------------------------------------------
// The dashboard
// ---------------------------------------------------------------------------------------------------

export class Dashboard {
  // data
  run: P.RunHistoryResult | null = null;
  live = false;
  runState: P.RunState | null = null;
  step = 0;
  totalSteps: number | null = null;
  lastLoss: number | null = null;
  stepsPerSec: number | null = null;
  etaSec: number | null = null;
  gradNorm: number | null = null;
  endMessage: { text: string; state: P.JobEndState } | null = null;
  schedule: P.NoiseSchedule | null = null;
  scheduleInfo: Omit<P.ComputeScheduleResult, 'schedule'> | null = null;
  samples: P.TrainingSamplesParams | null = null;
  sampling: SamplingInfo | null = null;
  /** The sampling chain: live snapshots, then the job's result (slider, play/pause, per-snapshot σ, α, ratio). */
  readonly chain = new ChainPlayer('chain', 'Sampling chain', 300);
  /** The backend requests of the score field card, relayed by the extension. */
  readonly requests = new PageRequests((m) => this.post(m));
  /** The score field of the shown 2D run (null for image runs). */
  field: ScoreFieldView | null = null;
  server: { state: P.ServerState; message?: string } = { state: 'running' };
  lastLog: P.LogParams | null = null;
  readonly loss: LossSeries;
  readonly perLevel = new PerLevelHistory(64);
  logScale: boolean;
  levelAxis: LevelAxis = 'level';
  levelsOverTime = false;
  /** Messages dropped by the checks (for the tests and for debugging). */
  dropped = 0;
  /** The run shown before a reload (from the saved state), until a run message comes. */
  private savedRunDir: string | null;

  // view
  theme: Theme;
  private readonly dirty = new Set<Part>();
  private frame = 0;
  readonly charts: { loss: Chart; levels: Chart; sigmas: Chart; overlap: Chart; objective: Chart };
  readonly els: Record<string, HTMLElement> = {};
  readonly sampleView: SampleView;

  constructor(private readonly root: HTMLElement, private readonly vscode: VsCodeApi) {
    const saved = vscode.getState();
    const state: P.DashboardState = P.isDashboardState(saved) ? saved : { runDir: null };
    this.logScale = state.logScale ?? true;
    this.loss = new LossSeries(clampSmoothing(state.smoothing ?? 0.6), 2000);
    this.savedRunDir = state.runDir;
    this.theme = readTheme();
    this.sampleView = new SampleView(this.theme, 360, 'Training samples');
    this.buildDom();
    const c = (id: string) => this.els[id]!;
    this.charts = {
      loss: new Chart(c('lossChart'), (t, s) => this.lossOptions(t, s), this.theme, () => 280),
      levels: new Chart(c('levelsChart'), (t, s) => this.levelOptions(t, s), this.theme, () => 250),
      sigmas: new Chart(c('sigmasChart'), (t, s) => this.sigmaOptions(t, s), this.theme, () => 180),
      overlap: new Chart(c('overlapChart'), (t, s) => this.overlapOptions(t, s), this.theme, () => 180),
      objective: new Chart(c('objectiveChart'), (t, s) => this.objectiveOptions(t, s), this.theme, () => 180),
    };
    this.watchTheme();
    window.addEventListener('message', (e: MessageEvent) => this.receive(e.data));
    this.invalidate('header', 'layout', 'loss', 'levels', 'samples', 'sampling', 'field', 'schedule');
    this.post({ type: 'ready', runDir: this.savedRunDir });
  }

  // ---- messages ---------------------------------------------------------------------------------

  post(m: P.FromDashboard): void {
    this.vscode.postMessage(m);
  }

  private saveState(): void {
    const s: P.DashboardState = { runDir: this.run?.runDir ?? this.savedRunDir, logScale: this.logScale, smoothing: this.loss.smoothing };
    this.vscode.setState(s);
  }

  /** Takes one message from the extension; anything that fails the protocol's checks is dropped. */
  receive(raw: unknown): void {
    if (!P.isToDashboard(raw)) {
      this.dropped++;
      console.warn('High Score dashboard: ignored a message that does not match the protocol.');
      return;
    }
    switch (raw.type) {
      case 'run': return this.onRun(raw.history, raw.live);
      case 'schedule': return this.onSchedule(raw.result);
      case 'server': return this.onServer(raw.state, raw.message);
      case 'notification': return this.onNotification(raw.method, raw.params);
      case 'response': return this.requests.answer(raw);
    }
  }

  private onNotification(method: P.NotificationMethod, params: unknown): void {
    if (P.isNotification(P.Progress, params) && method === P.Progress) return this.onProgress(params);
    if (P.isNotification(P.TrainingSamples, params) && method === P.TrainingSamples) return this.onTrainingSamples(params);
    if (P.isNotification(P.SamplingProgress, params) && method === P.SamplingProgress) return this.onSamplingProgress(params);
    if (P.isNotification(P.JobEnded, params) && method === P.JobEnded) return this.onJobEnded(params);
    if (P.isNotification(P.Log, params) && method === P.Log) {
      this.lastLog = params;
      return this.invalidate('header');
    }
    this.dropped++;
  }

  private isThisRun(runId: string | undefined): boolean {
    return this.run !== null && (runId === undefined || runId === this.run.runId || runId === this.run.runDir);
  }

  private onRun(history: P.RunHistoryResult, live: boolean): void {
    const sameRun = this.run?.runDir === history.runDir;
    this.run = history;
    this.savedRunDir = history.runDir;
    this.live = live;
    const st = history.status;
    this.runState = st?.state ?? (live ? 'running' : null);
    this.step = st?.step ?? history.points[history.points.length - 1]?.step ?? 0;
    this.totalSteps = st?.totalSteps ?? history.config.steps;
    this.lastLoss = st?.lastLoss ?? history.points[history.points.length - 1]?.loss ?? null;
    this.stepsPerSec = null;
    for (let i = history.points.length - 1; i >= 0; i--) {
      const s = history.points[i]!.stepsPerSec;
      if (s !== undefined) {
        this.stepsPerSec = s;
        break;
      }
    }
    this.etaSec = null;
    this.gradNorm = null;
    this.endMessage = st?.message && st.state !== 'running' ? { text: st.message, state: st.state === 'finished' ? 'finished' : st.state } : null;
    this.loss.clear();
    this.perLevel.clear();
    for (const p of history.points) {
      this.loss.append(p.step, p.loss);
      if (p.perLevel) this.perLevel.add(p.step, p.perLevel);
    }
    this.schedule = history.config.schedule;
    this.scheduleInfo = null;
    this.samples = history.samples ?? null;
    if (!sameRun) {
      this.sampling = null;
      this.chain.reset();
    }
    if (!sameRun || !this.field) this.newField();
    this.saveState();
    this.invalidate('header', 'layout', 'loss', 'levels', 'samples', 'sampling', 'field', 'schedule');
  }

  private onSchedule(result: P.ComputeScheduleResult): void {
    this.schedule = result.schedule;
    const { schedule: _s, ...info } = result;
    this.scheduleInfo = info;
    this.invalidate('schedule', 'layout', 'header');
  }

  private onServer(state: P.ServerState, message: string | undefined): void {
    this.server = message !== undefined ? { state, message } : { state };
    this.invalidate('header');
  }

  private onProgress(p: P.ProgressParams): void {
    if (!this.isThisRun(p.runId)) return;
    this.live = true;
    this.runState = 'running';
    this.endMessage = null;
    this.step = p.step;
    this.totalSteps = p.totalSteps;
    this.lastLoss = p.loss;
    this.stepsPerSec = p.stepsPerSec;
    this.etaSec = p.etaSec;
    this.gradNorm = p.gradNorm;
    this.loss.append(p.step, p.loss);
    if (p.perLevel.length) this.perLevel.add(p.step, p.perLevel);
    this.invalidate('header', 'loss', 'levels');
  }

  private onTrainingSamples(p: P.TrainingSamplesParams): void {
    if (!this.isThisRun(p.runId)) return;
    this.samples = p;
    this.invalidate('samples');
  }

  private onSamplingProgress(p: P.SamplingProgressParams): void {
    if (!this.isThisRun(p.runId)) return;
    if (this.sampling?.jobId !== p.jobId) this.chain.reset();
    this.sampling = {
      jobId: p.jobId, level: p.level, levels: p.levels, sigma: p.sigma, alpha: p.alpha, done: p.done, total: p.total,
      scoreNorm: p.scoreNorm, noiseNorm: p.noiseNorm, ended: null, message: null, kind: this.sampling?.jobId === p.jobId ? this.sampling.kind : 'sample',
    };
    this.chain.addProgress(p);
    this.invalidate('sampling');
  }

  private onJobEnded(p: P.JobEndedParams): void {
    if (p.kind === 'train') {
      if (!this.isThisRun(p.runId)) return;
      this.live = false;
      this.runState = p.state;
      this.etaSec = null;
      const r = p.result;
      if (r && r.type === 'training') {
        this.step = r.step;
        if (r.totalSteps !== null) this.totalSteps = r.totalSteps;
        if (r.lastLoss !== null) this.lastLoss = r.lastLoss;
      }
      this.endMessage = { text: p.message, state: p.state };
      this.invalidate('header', 'loss');
      return;
    }
    if (!(this.sampling?.jobId === p.jobId || (p.runId !== undefined && this.isThisRun(p.runId)))) return;
    const prev = this.sampling?.jobId === p.jobId ? this.sampling : null;
    if (!prev) this.chain.reset();
    const r = p.result;
    if (r && r.type === 'samples') {
      const final = r.png !== undefined || r.points !== undefined ? { ...(r.png !== undefined ? { png: r.png } : {}), ...(r.points !== undefined ? { points: r.points } : {}) } : null;
      this.chain.finish(r.snapshots, prev?.levels || this.schedule?.sigmas.length || r.snapshots.length, final);
    }
    this.sampling = {
      jobId: p.jobId, level: prev?.level ?? 0, levels: prev?.levels ?? 0, sigma: prev?.sigma ?? NaN, alpha: prev?.alpha ?? NaN,
      done: prev && p.state === 'finished' ? prev.total : prev?.done ?? 0, total: prev?.total ?? 0,
      scoreNorm: prev?.scoreNorm ?? null, noiseNorm: prev?.noiseNorm ?? null, ended: p.state, message: p.message, kind: p.kind,
    };
    this.invalidate('sampling');
  }

  // ---- rendering ----------------------------------------------------------------------------------

  invalidate(...parts: Part[]): void {
    for (const p of parts) this.dirty.add(p);
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
  }

  /** Draws everything that changed since the last frame. */
  flush(): void {
    this.frame = 0;
    const d = new Set(this.dirty);
    this.dirty.clear();
    if (d.has('layout')) this.renderLayout();
    if (d.has('header')) this.renderHeader();
    if (d.has('loss')) this.renderLoss();
    if (d.has('levels')) this.renderLevels();
    if (d.has('samples')) this.renderSamples();
    if (d.has('sampling')) this.renderSampling();
    if (d.has('field')) this.renderField();
    if (d.has('schedule')) this.renderSchedule();
  }

  private watchTheme(): void {
    let pending = 0;
    const refresh = () => {
      pending = 0;
      this.theme = readTheme();
      for (const c of Object.values(this.charts)) c.rebuild(this.theme);
      this.sampleView.setTheme(this.theme);
      this.chain.redraw();
      this.field?.draw();
    };
    const mo = new MutationObserver(() => {
      if (!pending) pending = requestAnimationFrame(refresh);
    });
    mo.observe(document.body, { attributes: true, attributeFilter: ['class', 'style', 'data-vscode-theme-id'] });
    mo.observe(document.documentElement, { attributes: true, attributeFilter: ['class', 'style'] });
  }

  private buildDom(): void {
    const e = this.els;
    const btn = (id: string, label: string, action: P.DashboardAction, title: string, secondary = true) => {
      const b = h('vscode-button', { id: `btn-${id}`, title, secondary, 'aria-label': title }, label);
      b.addEventListener('click', () => {
        if (b.hasAttribute('disabled')) return;
        this.post({ type: 'action', action, runDir: this.run?.runDir ?? this.savedRunDir });
      });
      e[`btn-${id}`] = b;
      return b;
    };
    const stat = (id: string, label: string) => {
      const v = h('dd', { id: `stat-${id}` }, '—');
      e[`stat-${id}`] = v;
      return h('div', { class: 'stat' }, h('dt', {}, label), v);
    };
    const card = (id: string, title: string, cls: string, tools: (Node | null)[], ...body: Node[]) => {
      const heading = h('h2', { id: `${id}-title` }, title);
      const el = h('section', { id, class: `card ${cls}`, 'aria-labelledby': `${id}-title` },
        h('header', { class: 'card-head' }, heading, h('div', { class: 'card-tools' }, ...tools)), ...body);
      e[id] = el;
      return el;
    };
    const chart = (id: string, label: string) => {
      const el = h('div', { id, class: 'chart', role: 'img', 'aria-label': label });
      e[id] = el;
      return el;
    };
    const caption = (id: string) => {
      const el = h('p', { id, class: 'caption' });
      e[id] = el;
      return el;
    };

    // header
    e.title = h('h1', { id: 'run-name' }, 'High Score');
    e.meta = h('div', { id: 'run-meta', class: 'meta' });
    e.badge = h('vscode-badge', { id: 'state-badge', class: 'state-badge' });
    e.progress = h('vscode-progress-bar', { id: 'train-progress', class: 'train-progress', 'aria-label': 'Training progress' });
    const header = h('header', { class: 'top' },
      h('div', { class: 'title-row' },
        h('div', { class: 'title-block' }, h('div', { class: 'title-line' }, e.title, e.badge), e.meta),
        h('div', { class: 'actions', role: 'toolbar', 'aria-label': 'Run actions' },
          btn('stop', 'Stop', 'stop', 'Stop training (a checkpoint is written first)', false),
          btn('resume', 'Resume', 'resume', 'Resume training from the latest checkpoint'),
          btn('sample', 'Sample', 'sample', 'Draw samples from this run with annealed Langevin dynamics'),
          btn('showLog', 'Show Log', 'showLog', 'Show the High Score output channel'),
          btn('revealRun', 'Reveal Folder', 'revealRun', 'Reveal the run folder'))),
    );
    e.stats = h('dl', { class: 'stats', id: 'stats' },
      stat('step', 'Step'), stat('loss', 'Loss'), stat('speed', 'Steps/s'), stat('eta', 'ETA'), stat('grad', 'Grad norm'));
    e.statsBlock = h('div', { class: 'stats-block' }, e.stats, e.progress);
    e.banner = h('div', { id: 'server-banner', class: 'banner', role: 'status' });
    e.ended = h('div', { id: 'end-message', class: 'end-message', role: 'status' });
    e.empty = h('div', { id: 'empty', class: 'empty' },
      h('h2', {}, 'Nothing to show yet'),
      h('p', {}, 'Train a model with High Score: Train… or pick a run in the Runs view.'),
      h('p', { class: 'muted' }, 'Loss curves, per-level losses, the noise schedule and samples appear here while a run trains.'));

    // loss card
    e.logScale = h('vscode-checkbox', { id: 'log-scale', label: 'Log scale', checked: this.logScale });
    e.logScale.addEventListener('change', () => {
      this.logScale = (e.logScale as HTMLInputElement).checked;
      this.saveState();
      this.charts.loss.rebuild(undefined);
      this.charts.levels.rebuild(undefined);
      this.invalidate('loss', 'levels');
    });
    const smoothing = h('input', {
      id: 'smoothing', type: 'range', min: 0, max: 0.99, step: 0.01, value: this.loss.smoothing, class: 'range',
    }) as HTMLInputElement;
    e.smoothing = smoothing;
    e.smoothingValue = h('output', { id: 'smoothing-value', for: 'smoothing', class: 'range-value' }, this.loss.smoothing.toFixed(2));
    smoothing.addEventListener('input', () => {
      this.loss.setSmoothing(Number(smoothing.value));
      setText(e.smoothingValue!, this.loss.smoothing.toFixed(2));
      this.invalidate('loss');
    });
    smoothing.addEventListener('change', () => this.saveState());
    const smoothingTool = h('div', { class: 'tool' }, h('label', { for: 'smoothing' }, 'Smoothing'), smoothing, e.smoothingValue);

    // per-level card
    const axisSelect = h('vscode-single-select', { id: 'level-axis', 'aria-label': 'Per-level x axis', class: 'select' },
      h('vscode-option', { value: 'level', selected: true }, 'Level i'),
      h('vscode-option', { value: 'sigma' }, 'σᵢ (log)'));
    axisSelect.addEventListener('change', () => {
      const v = (axisSelect as unknown as { value: string }).value;
      this.levelAxis = v === 'sigma' ? 'sigma' : 'level';
      this.charts.levels.rebuild(undefined);
      this.invalidate('levels');
    });
    e.overTime = h('vscode-checkbox', { id: 'levels-over-time', label: 'Over time' });
    e.overTime.addEventListener('change', () => {
      this.levelsOverTime = (e.overTime as HTMLInputElement).checked;
      this.invalidate('levels');
    });

    // samples card
    e.samplesCaption = caption('samples-caption');
    e.samplesEmpty = h('p', { class: 'placeholder' }, 'Preview samples from the EMA weights appear here during training (setting: High Score › Sample Interval).');

    // sampling card
    e.samplingBar = h('vscode-progress-bar', { id: 'sampling-progress', 'aria-label': 'Sampling progress', max: 1, value: 0 });
    e.samplingEmpty = h('p', { class: 'placeholder' }, 'No sampling job yet. Sample draws from the run’s EMA weights with annealed Langevin dynamics; ask for snapshots to step through the chain here.');
    e.samplingMessage = h('p', { class: 'caption', id: 'sampling-message' });
    e.samplingBody = h('div', { class: 'sampling-body' }, e.samplingBar, e.samplingMessage, this.chain.el);

    // score field card (2D runs)
    e.fieldRefresh = h('vscode-button', { id: 'field-refresh', secondary: true, title: 'Evaluate the latest checkpoint again', 'aria-label': 'Refresh the score field' }, 'Refresh');
    e.fieldRefresh.addEventListener('click', () => {
      this.newField();
      this.invalidate('field');
    });
    e.fieldBody = h('div', { class: 'field-body', id: 'field-body' });

    e.log = h('footer', { class: 'log-line', id: 'log-line', role: 'log', 'aria-live': 'off' });

    const grid = h('main', { class: 'grid', id: 'grid' },
      card('card-loss', 'Loss', 'wide', [e.logScale, smoothingTool], chart('lossChart', 'Loss curve'), caption('loss-caption')),
      card('card-samples', 'Samples', '', [e.samplesCaption], this.sampleView.el, e.samplesEmpty),
      card('card-levels', 'Loss per noise level', 'wide', [axisSelect, e.overTime], chart('levelsChart', 'Loss per noise level'), caption('levels-caption')),
      card('card-sampling', 'Sampling', '', [], e.samplingEmpty, e.samplingBody),
      card('card-field', 'Score field', 'wide', [e.fieldRefresh], e.fieldBody),
      card('card-sigmas', 'Noise levels σᵢ', '', [], chart('sigmasChart', 'Noise levels'), caption('sigmas-caption')),
      card('card-overlap', 'Overlap rule (technique 2)', '', [], chart('overlapChart', 'Overlap rule'), caption('overlap-caption')),
      card('card-objective', 'Step size ε (technique 4)', '', [], chart('objectiveChart', 'Step-size objective'), caption('objective-caption')),
    );
    e.grid = grid;
    this.root.replaceChildren(header, e.statsBlock, e.banner, e.ended, e.empty, grid, e.log);
  }

  private renderLayout(): void {
    const e = this.els;
    const hasRun = this.run !== null;
    const hasSchedule = this.schedule !== null;
    show(e.empty!, !hasRun && !hasSchedule);
    show(e.grid!, hasRun || hasSchedule);
    show(e.statsBlock!, hasRun);
    for (const id of ['card-loss', 'card-samples', 'card-levels', 'card-sampling']) show(e[id]!, hasRun);
    show(e['card-field']!, this.field !== null);
    for (const id of ['card-sigmas', 'card-overlap', 'card-objective']) show(e[id]!, hasSchedule);
  }

  private renderHeader(): void {
    const e = this.els;
    const run = this.run;
    if (run) {
      setText(e.title!, run.runId);
      const c = run.config;
      const net = c.network?.kind === 'unet' ? 'U-Net' : c.network?.kind === 'mlp' ? 'MLP' : '';
      setText(e.meta!, [c.dataSpec, `preset ${c.preset}${net ? ` (${net})` : ''}`,
        c.parameters ? `${formatCount(c.parameters)} parameters` : '', `batch ${c.batch}`, c.backend,
        c.implementation ? `your implementation (${c.implementation.split(/[\\/]/).pop()})` : ''].filter(Boolean).join(' · '));
      setAttr(e.meta!, 'title', run.runDir);
    } else if (this.scheduleInfo) {
      setText(e.title!, `Noise schedule: ${this.scheduleInfo.name}`);
      setText(e.meta!, `${this.scheduleInfo.data} · ${this.scheduleInfo.kind} [${this.scheduleInfo.shape.join('×')}] · ${formatCount(this.scheduleInfo.size)} examples`);
    } else {
      setText(e.title!, 'High Score');
      setText(e.meta!, '');
    }
    const state = run ? this.runState ?? 'unknown' : null;
    show(e.badge!, state !== null);
    if (state) {
      setText(e.badge!, STATE_LABEL[state]);
      setAttr(e.badge!, 'data-state', state);
      setAttr(e.badge!, 'aria-label', `Run state: ${STATE_LABEL[state]}`);
    }
    const running = state === 'running' && this.live;
    show(e['btn-stop']!, running);
    show(e['btn-resume']!, !!run && !running);
    show(e['btn-sample']!, !!run);
    show(e['btn-revealRun']!, !!run);

    // stats
    const total = this.totalSteps;
    setText(e['stat-step']!, total ? `${formatCount(this.step)} / ${formatCount(total)}` : formatCount(this.step));
    setText(e['stat-loss']!, formatNumber(this.lastLoss));
    setText(e['stat-speed']!, this.stepsPerSec !== null ? formatNumber(this.stepsPerSec, 3) : '—');
    setText(e['stat-eta']!, running ? formatDuration(this.etaSec) : '—');
    setText(e['stat-grad']!, formatNumber(this.gradNorm, 3));
    const bar = e.progress as unknown as { value?: number; max: number };
    bar.max = total || 1;
    bar.value = total ? Math.min(this.step, total) : 0;
    setAttr(e.progress!, 'aria-valuetext', total ? `${Math.round((100 * this.step) / total)}% (step ${formatCount(this.step)} of ${formatCount(total)})` : null);

    // server banner
    const srv = this.server;
    const bannerOn = srv.state === 'restarting' || srv.state === 'stopped' || srv.state === 'starting';
    show(e.banner!, bannerOn);
    if (bannerOn) {
      const head = srv.state === 'restarting' ? 'The High Score backend is restarting.' : srv.state === 'stopped' ? 'The High Score backend has stopped.' : 'The High Score backend is starting…';
      setText(e.banner!, srv.message ? `${head} ${srv.message}` : head);
      setAttr(e.banner!, 'data-state', srv.state);
    }
    show(e.ended!, !!this.endMessage && !!run);
    if (this.endMessage) {
      setText(e.ended!, this.endMessage.text);
      setAttr(e.ended!, 'data-state', this.endMessage.state);
    }
    show(e.log!, !!this.lastLog);
    if (this.lastLog) {
      setText(e.log!, this.lastLog.message);
      setAttr(e.log!, 'data-level', this.lastLog.level);
    }
  }

  // ---- charts -------------------------------------------------------------------------------------

  private lossOptions(t: Theme, size: { width: number; height: number }): uPlot.Options {
    const log = this.logScale;
    return {
      ...size,
      scales: { x: { time: false }, y: log ? { distr: 3, log: 10 } : {} },
      axes: [axis(t, { values: ticks, size: 30 }), axis(t, { values: log ? logTicks : ticks, size: 52, ...(log ? { splits: logSplits } : {}) })],
      series: [
        { label: 'step', value: (_u, v) => formatCount(v) },
        { label: 'loss', stroke: withAlpha(t.blue, t.highContrast ? 0.7 : 0.35), width: 1, value: (_u, v) => formatNumber(v) },
        { label: 'smoothed', stroke: t.blue, width: 2, value: (_u, v) => formatNumber(v) },
      ],
      legend: { show: true, live: true },
      cursor: { drag: { x: true, y: false }, points: { size: 6 } },
    };
  }

  private renderLoss(): void {
    if (!this.run) return;
    const v = this.loss.view();
    const fix = (a: number[]) => (this.logScale ? positiveOrNull(a) : a);
    this.charts.loss.setData([v.x, fix(v.raw), fix(v.smooth)]);
    const last = this.loss.last();
    const text = last
      ? `${formatCount(this.loss.length)} logged points (${formatCount(v.x.length)} drawn) · latest ${formatNumber(last.loss)} at step ${formatCount(last.step)} · smoothed ${formatNumber(last.smooth)} · lowest ${formatNumber(this.loss.min())}`
      : 'No loss logged yet.';
    setText(this.els['loss-caption']!, text);
    setAttr(this.els.lossChart!, 'aria-label', `Loss curve. ${text}`);
  }

  private levelEntries() {
    return this.levelsOverTime ? this.perLevel.pick(LEVEL_LINES) : (this.perLevel.latest() ? [this.perLevel.latest()!] : []);
  }

  private levelOptions(t: Theme, size: { width: number; height: number }): uPlot.Options {
    const entries = this.levelEntries();
    const sigma = this.levelAxis === 'sigma';
    const n = Math.max(1, entries.length);
    const series: uPlot.Series[] = [{ label: sigma ? 'σ' : 'level', value: (_u, v) => (sigma ? formatNumber(v, 3) : formatCount(v)) }];
    entries.forEach((en, i) => {
      const latest = i === n - 1;
      series.push({
        label: `step ${formatCount(en.step)}`,
        stroke: latest ? t.orange : withAlpha(t.orange, 0.2 + (0.5 * (i + 1)) / n),
        width: latest ? 2 : 1,
        value: (_u, v) => formatNumber(v),
        spanGaps: false,
      });
    });
    return {
      ...size,
      scales: { x: sigma ? { time: false, distr: 3, log: 10 } : { time: false }, y: this.logScale ? { distr: 3, log: 10 } : {} },
      axes: [axis(t, { values: sigma ? logTicks : ticks, size: 30, label: sigma ? 'σᵢ' : 'level i', labelSize: 16, ...(sigma ? { splits: logSplits } : {}) }),
        axis(t, { values: this.logScale ? logTicks : ticks, size: 52, ...(this.logScale ? { splits: logSplits } : {}) })],
      series,
      legend: { show: true, live: true },
      cursor: { drag: { x: true, y: false }, points: { size: 6 } },
    };
  }

  private renderLevels(): void {
    if (!this.run) return;
    const entries = this.levelEntries();
    const s = perLevelSeries(entries, this.schedule?.sigmas ?? null, this.levelAxis);
    const fix = (a: (number | null)[]) => (this.logScale ? positiveOrNull(a) : a);
    const data: uPlot.AlignedData = [s.x, ...s.ys.map(fix)];
    const chart = this.charts.levels;
    const seriesCount = chart.u ? chart.u.series.length : -1;
    // A new series count: setData builds the chart afresh with the new data (a rebuild here would pair
    // the new series with the old data). Labels carry the steps: rebuild when the picked entries change.
    if (seriesCount === data.length && chart.u && s.steps.some((st, i) => chart.u!.series[i + 1]!.label !== `step ${formatCount(st)}`)) chart.rebuild(undefined);
    chart.setData(data);
    const latest = this.perLevel.latest();
    let text = 'No per-level loss logged yet.';
    if (latest) {
      const vals = latest.values.map((v, i) => [v, i + 1] as const).filter((p): p is readonly [number, number] => p[0] !== null);
      if (vals.length) {
        const hi = vals.reduce((a, b) => (b[0] > a[0] ? b : a));
        const lo = vals.reduce((a, b) => (b[0] < a[0] ? b : a));
        text = `Step ${formatCount(latest.step)}: ${latest.values.length} levels · highest ${formatNumber(hi[0])} at level ${hi[1]} · lowest ${formatNumber(lo[0])} at level ${lo[1]}`;
      }
    }
    setText(this.els['levels-caption']!, text);
    setAttr(this.els.levelsChart!, 'aria-label', `Loss per noise level. ${text}`);
  }

  private renderSamples(): void {
    const s = this.samples;
    const e = this.els;
    show(e.samplesEmpty!, !s);
    if (!s) {
      this.sampleView.clear();
      setText(e.samplesCaption!, '');
      return;
    }
    const image: FrameImage = {};
    if (s.png !== undefined) image.png = s.png;
    if (s.points !== undefined) image.points = s.points;
    this.sampleView.show(image);
    const what = s.png !== undefined ? `${s.n} samples [${s.shape.join('×')}]` : `${formatCount(s.n)} points`;
    const cap = `step ${formatCount(s.step)} · ${what}`;
    setText(e.samplesCaption!, cap);
    this.sampleView.setAlt(`Samples from the EMA weights at ${cap}`);
  }

  private renderSampling(): void {
    const e = this.els;
    const s = this.sampling;
    show(e.samplingEmpty!, !s);
    show(e.samplingBody!, !!s);
    if (!s) return;
    const bar = e.samplingBar as unknown as { value?: number; max: number };
    bar.max = s.total || 1;
    bar.value = s.total ? s.done : 0;
    const pct = s.total ? Math.round((100 * s.done) / s.total) : 0;
    const what = s.kind === 'sample' ? 'Sampling' : s.kind === 'inpaint' ? 'Inpainting' : 'Variations';
    const at = s.levels ? ` · level ${s.level} of ${s.levels}, σ = ${formatNumber(s.sigma, 3)}` : '';
    const stateText = s.ended ? s.message ?? s.ended : `${what}: ${pct}% (${formatCount(s.done)} of ${formatCount(s.total)} network evaluations)${at}`;
    setText(e.samplingMessage!, stateText);
    setAttr(e.samplingMessage!, 'data-state', s.ended ?? 'running');
  }

  /** A fresh score field view for the shown run when it is a 2D one (none for image runs). */
  private newField(): void {
    this.field?.dispose();
    this.field = null;
    const run = this.run;
    if (run && run.config.dataKind === 'points') this.field = new ScoreFieldView(this.requests, run.runDir, 480);
    this.invalidate('field', 'layout');
  }

  private renderField(): void {
    const body = this.els.fieldBody!;
    if (!this.field) body.replaceChildren();
    else if (body.firstChild !== this.field.el) body.replaceChildren(this.field.el);
  }

  private sigmaOptions(t: Theme, size: { width: number; height: number }): uPlot.Options {
    return {
      ...size,
      scales: { x: { time: false }, y: { distr: 3, log: 10 } },
      axes: [axis(t, { values: ticks, size: 30, label: 'level i', labelSize: 16 }), axis(t, { values: logTicks, size: 52, splits: logSplits })],
      series: [{ label: 'level' }, { label: 'σᵢ', stroke: t.purple, width: 2, points: { size: 4, fill: t.purple } , value: (_u, v) => formatNumber(v, 3) }],
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
    };
  }

  private overlapOptions(t: Theme, size: { width: number; height: number }): uPlot.Options {
    const markers = (): Marker[] => {
      const s = this.schedule;
      if (!s) return [];
      const d = s.diagnostics;
      const m: Marker[] = [{ y: 0.5, color: t.muted, label: 'target 0.5' }];
      if (d.gammaRule !== undefined && Math.abs(d.gammaRule - s.gamma) > 1e-4) m.push({ x: d.gammaRule, color: t.muted, dash: [2, 3] });
      m.push({ x: s.gamma, color: t.orange, label: `γ = ${formatNumber(s.gamma, 4)}` });
      m.push({ x: s.gamma, y: d.overlap, color: t.orange, dot: true });
      return m;
    };
    return {
      ...size,
      scales: { x: { time: false }, y: { range: [0, 1.02] } },
      axes: [axis(t, { values: ticks, size: 30, label: 'γ = σᵢ₋₁ / σᵢ', labelSize: 16 }), axis(t, { values: ticks, size: 52 })],
      series: [{ label: 'γ' }, { label: 'overlap', stroke: t.green, width: 2, value: (_u, v) => formatNumber(v, 3) }],
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      plugins: [markerPlugin(markers, () => axisFont(this.theme))],
    };
  }

  private objectiveOptions(t: Theme, size: { width: number; height: number }): uPlot.Options {
    const markers = (): Marker[] => {
      const s = this.schedule;
      if (!s) return [];
      return [
        { y: 1, color: t.muted, label: 'target 1' },
        { x: s.eps, color: t.orange, label: `ε = ${formatNumber(s.eps, 3)}` },
        { x: s.eps, y: s.diagnostics.stepObjective, color: t.orange, dot: true },
      ];
    };
    return {
      ...size,
      scales: {
        x: { time: false, distr: 3, log: 10 },
        y: { range: (_u, min, max) => [Math.min(min, 1) - 0.05 * Math.max(0.1, max - min), max + 0.05 * Math.max(0.1, max - min)] },
      },
      axes: [axis(t, { values: logTicks, size: 30, label: 'ε', labelSize: 16, splits: logSplits }), axis(t, { values: ticks, size: 52 })],
      series: [{ label: 'ε' }, { label: 'objective', stroke: t.blue, width: 2, value: (_u, v) => formatNumber(v, 3) }],
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      plugins: [markerPlugin(markers, () => axisFont(this.theme))],
    };
  }

  private renderSchedule(): void {
    const s = this.schedule;
    if (!s) return;
    const p = schedulePlots(s);
    this.charts.sigmas.setData([p.sigmas.x, p.sigmas.y]);
    this.charts.overlap.setData([p.overlap.x, p.overlap.y]);
    this.charts.objective.setData([p.objective.x, p.objective.y]);
    for (const c of [this.charts.overlap, this.charts.objective]) c.redraw();
    const L = s.sigmas.length;
    const src = s.diagnostics.sources;
    const sigText = `L = ${L} levels (${src.levels}) · σ₁ = ${formatNumber(s.sigmas[0], 3)} (${src.sigmaMax}) → σ_L = ${formatNumber(s.sigmas[L - 1], 3)} · D = ${formatCount(s.D)}`;
    const ovText = `γ = ${formatNumber(s.gamma, 4)}: overlap ${formatNumber(p.overlap.value, 3)} (target 0.5)${p.overlap.gammaRule !== null ? ` · the rule asks γ ≤ ${formatNumber(p.overlap.gammaRule, 4)}` : ' · no solution in this dimension'}`;
    const obText = `ε = ${formatNumber(s.eps, 3)} (${src.eps}) for T = ${s.stepsPerLevel}: objective ${formatNumber(p.objective.value, 4)} (target 1)`;
    setText(this.els['sigmas-caption']!, sigText);
    setText(this.els['overlap-caption']!, ovText);
    setText(this.els['objective-caption']!, obText);
    setAttr(this.els.sigmasChart!, 'aria-label', `Noise levels on a log scale. ${sigText}`);
    setAttr(this.els.overlapChart!, 'aria-label', `Overlap rule over gamma. ${ovText}`);
    setAttr(this.els.objectiveChart!, 'aria-label', `Step-size objective over eps. ${obText}`);
  }

  /** A plain summary for tests and debugging. */
  debug() {
    const len = (c: Chart) => c.length;
    return {
      runDir: this.run?.runDir ?? null,
      runState: this.runState,
      live: this.live,
      lossLogged: this.loss.length,
      lossDrawn: len(this.charts.loss),
      lossChartCreated: this.charts.loss.u !== null,
      levelsDrawn: len(this.charts.levels),
      levelLines: (this.charts.levels.dataset?.length ?? 1) - 1,
      sigmasDrawn: len(this.charts.sigmas),
      overlapDrawn: len(this.charts.overlap),
      objectiveDrawn: len(this.charts.objective),
      frames: this.chain.debug().frames,
      frameIndex: this.chain.debug().index,
      playing: this.chain.debug().playing,
      field: this.field?.debug() ?? null,
      requestsWaiting: this.requests.waiting,
      resultsDropped: this.requests.dropped,
      dropped: this.dropped,
      logScale: this.logScale,
      smoothing: this.loss.smoothing,
    };
  }
}
