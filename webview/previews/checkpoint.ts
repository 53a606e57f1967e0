/**
 * The checkpoint editor (a custom editor for a run's checkpoints/step-N/model.json): the run's config,
 * the noise schedule, the loss curve, the latest samples, and buttons to sample more, inpaint and vary.
 */
import type uPlot from 'uplot';
import * as P from '../../protocol/protocol';
import { Chart, axis, logSplits, logTicks, ticks, type Theme } from '../dashboard/charts';
import { formatCount, formatNumber } from '../dashboard/series';
import { errorText } from '../common/requests';
import type { Host } from './host';
import { runName } from './inpaint';
import { SampleView, button, caption, card, colors, h, progressBar, setDisabled, setText, showProgress } from '../common/ui';

export class CheckpointPage {
  readonly el: HTMLElement;
  description: P.CheckpointDescription | null = null;
  history: P.RunHistoryResult | null = null;
  previews = 0;
  private seed = 1;
  private readonly config = h('dl', { class: 'config', id: 'config' });
  private readonly sigmaEl = h('div', { class: 'chart', id: 'sigma-chart' });
  private readonly lossEl = h('div', { class: 'chart', id: 'loss-chart' });
  private readonly samples = new SampleView('Latest samples', 360);
  private readonly samplesNote = caption('samples-note');
  private readonly status = caption('checkpoint-status');
  private readonly bar = progressBar('checkpoint-progress');
  private readonly sampleButton: HTMLElement;
  private charts: Chart[] = [];

  constructor(private readonly host: Host, readonly runDir: string, private readonly checkpoint?: string) {
    this.sampleButton = button('Sample more', () => void this.sampleMore(), { id: 'sample-more', title: 'A fresh small grid from this run’s latest checkpoint' });
    const inpaint = button('Inpaint…', () => host.post({ type: 'open', page: 'inpaint', runDir }), { id: 'open-inpaint', secondary: true });
    const vary = button('Vary…', () => host.post({ type: 'open', page: 'vary', runDir }), { id: 'open-vary', secondary: true });
    const field = button('Score field…', () => host.post({ type: 'open', page: 'field', runDir }), { id: 'open-field', secondary: true });
    this.el = h('main', { class: 'page checkpoint-page' },
      h('header', { class: 'page-head' }, h('h1', {}, `Checkpoint ${checkpoint ?? ''}`.trim()), h('span', { class: 'run-name', title: runDir }, runName(runDir))),
      h('div', { class: 'buttons', id: 'checkpoint-actions' }, this.sampleButton, inpaint, vary, field), this.bar, this.status,
      h('div', { class: 'grid' },
        card('card-samples', 'Latest samples', this.samples.el, this.samplesNote),
        card('card-config', 'Config', this.config),
        card('card-loss', 'Loss', this.lossEl),
        card('card-schedule', 'Noise levels σᵢ', this.sigmaEl)));
    this.field = field;
    this.inpaint = inpaint;
    void this.load();
  }

  private readonly field: HTMLElement;
  private readonly inpaint: HTMLElement;

  private async load(): Promise<void> {
    try {
      const [d, hist] = await Promise.all([this.host.request(P.DescribeCheckpoint, { runDir: this.runDir }), this.host.request(P.RunHistory, { runDir: this.runDir, maxPoints: 500 })]);
      this.description = d;
      this.history = hist;
      this.inpaint.hidden = d.config.dataKind !== 'image';
      this.field.hidden = d.config.dataKind !== 'points';
      this.renderConfig(d);
      this.renderCharts(d, hist);
      if (hist.samples) {
        this.samples.show(hist.samples);
        setText(this.samplesNote, `From step ${formatCount(hist.samples.step)} (${hist.samples.file.split(/[\\/]/).pop()}).`);
      } else await this.sampleMore();
      const here = this.checkpoint && d.latest && this.checkpoint !== d.latest ? ` This file is ${this.checkpoint}; previews and tools use the latest, ${d.latest}.` : '';
      setText(this.status, `${d.checkpoints.length} checkpoint${d.checkpoints.length === 1 ? '' : 's'}; latest ${d.latest ?? '—'}.${here}`);
    } catch (e) {
      setText(this.status, `Could not read the run: ${errorText(e)}`);
    }
  }

  private renderConfig(d: P.CheckpointDescription): void {
    const c = d.config;
    const net = c.network.kind === 'unet' ? `U-Net ${c.network.base} ch × [${c.network.mults.join(', ')}], ${c.network.blocks} block(s)` : `MLP ${c.network.hidden.join('-')}`;
    const s = d.schedule;
    const rows: [string, string][] = [
      ['Data', `${c.dataSpec} [${c.dataShape.join('×')}]`], ['Preset', c.preset], ['Network', `${net} · ${formatCount(c.parameters)} parameters`],
      ['Step', `${formatCount(d.status?.step ?? 0)} of ${formatCount(c.steps)} (${d.status?.state ?? 'unknown'})`],
      ['Last loss', formatNumber(d.status?.lastLoss ?? null)], ['Batch · lr', `${c.batch} · ${formatNumber(c.learningRate)}`],
      ['EMA · clip', `${c.emaDecay} · ${c.gradClip}`],
      ['Schedule', `σ₁ = ${formatNumber(s.sigmas[0]!, 3)} → σ_L = ${formatNumber(s.sigmas[s.sigmas.length - 1]!, 3)}, L = ${s.sigmas.length}, T = ${s.stepsPerLevel}, ε = ${formatNumber(s.eps, 3)}`],
      ['Seed · backend', `${c.seed} · ${c.backend}`], ['Created', c.createdAt.replace('T', ' ').slice(0, 19)],
    ];
    this.config.replaceChildren(...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
  }

  private renderCharts(d: P.CheckpointDescription, hist: P.RunHistoryResult): void {
    const t = colors();
    const sig = d.schedule.sigmas;
    const sigmaChart = new Chart(this.sigmaEl, (th, size) => this.lineOptions(th, size, 'level i', 'σᵢ', th.purple, true), t, () => 200);
    sigmaChart.setData([sig.map((_, i) => i + 1), sig]);
    const pts = hist.points.filter((p) => p.loss > 0);
    const lossChart = new Chart(this.lossEl, (th, size) => this.lineOptions(th, size, 'step', 'loss', th.blue, true), t, () => 200);
    lossChart.setData([pts.map((p) => p.step), pts.map((p) => p.loss)]);
    this.charts = [sigmaChart, lossChart];
  }

  private lineOptions(t: Theme, size: { width: number; height: number }, xLabel: string, yLabel: string, color: string, logY: boolean): uPlot.Options {
    return {
      ...size,
      scales: { x: { time: false }, y: logY ? { distr: 3, log: 10 } : {} },
      axes: [axis(t, { values: ticks, size: 30, label: xLabel, labelSize: 16 }), axis(t, logY ? { values: logTicks, size: 52, splits: logSplits } : { size: 52 })],
      series: [{ label: xLabel }, { label: yLabel, stroke: color, width: 1.5, points: { show: false } }],
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
    };
  }

  async sampleMore(): Promise<void> {
    setDisabled(this.sampleButton, true);
    showProgress(this.bar, null);
    setText(this.samplesNote, 'Sampling a quick preview…');
    try {
      const r = await this.host.request(P.Preview, { runDir: this.runDir, seed: this.seed++ });
      this.previews++;
      this.samples.show(r);
      setText(this.samplesNote, `A quick preview from ${r.checkpoint} (step ${formatCount(r.step)}): ${r.n} samples, T = ${r.stepsPerLevel} per level, ${r.cached ? 'cached' : `${r.seconds.toFixed(1)} s`}.`);
    } catch (e) {
      setText(this.samplesNote, `Sampling failed: ${errorText(e)}`);
    } finally {
      this.bar.hidden = true;
      setDisabled(this.sampleButton, false);
    }
  }

  debug(): { loaded: boolean; previews: number; charts: number[] } {
    return { loaded: this.description !== null, previews: this.previews, charts: this.charts.map((c) => c.length) };
  }
}
