/**
 * The variations panel: pick one or more training examples, choose the noise level to start from (low
 * sigma: close variations; sigma_1: new samples), run, and get one grid per example (the source
 * first). The running chain shows in the chain player.
 */
import * as P from '../../protocol/protocol';
import { formatNumber } from '../dashboard/series';
import { ChainPlayer } from '../common/chain';
import { errorText } from '../common/requests';
import { decodeFloats, followJob, type Host } from './host';
import { runName } from './inpaint';
import { ExampleStrip } from './strip';
import { SampleView, button, caption, card, choice, h, progressBar, setDisabled, setText, showProgress, slider } from '../common/ui';

export class VaryPage {
  readonly el: HTMLElement;
  sigmas: number[] = [];
  level = 1;
  picked: P.DatasetExample[] = [];
  readonly results: { index: number; result: P.SamplingJobResult }[] = [];
  private jobId: string | null = null;
  private cancelled = false;
  private readonly strip: ExampleStrip;
  private readonly chain = new ChainPlayer('vary-chain', 'Variations chain', 300);
  private readonly levelSlider: ReturnType<typeof slider>;
  private readonly levelNote = caption('level-note');
  private readonly status = caption('vary-status', 'Pick one or more examples, choose the start level, then Run.');
  private readonly bar = progressBar('vary-progress');
  private readonly grids = h('div', { class: 'result-grids', id: 'vary-results' });
  private readonly runButton: HTMLElement;
  private readonly cancelButton: HTMLElement;
  private readonly nChoice = choice('vary-n', 'Variations per example', [4, 8, 16], 8);
  private readonly tChoice = choice('vary-t', 'Steps per level', [1, 2, 5, 10], 2);

  constructor(private readonly host: Host, readonly runDir: string, startIndex?: number) {
    this.strip = new ExampleStrip(host, runDir, true, (sel) => {
      this.picked = sel;
      setDisabled(this.runButton, sel.length === 0);
      setText(this.status, sel.length ? `${sel.length} example${sel.length > 1 ? 's' : ''} picked: ${sel.map((e) => e.index).join(', ')}.` : 'Pick one or more examples.');
    }, 12);
    this.levelSlider = slider('level', 'Start level', 1, 2, 1, (v) => this.setLevel(v));
    this.runButton = button('Run variations', () => void this.run(), { id: 'run' });
    this.cancelButton = button('Cancel', () => void this.cancel(), { id: 'cancel', secondary: true });
    setDisabled(this.runButton, true);
    setDisabled(this.cancelButton, true);
    this.el = h('main', { class: 'page vary-page' },
      h('header', { class: 'page-head' }, h('h1', {}, 'Variations'), h('span', { class: 'run-name', title: runDir }, runName(runDir))),
      card('card-source', 'Examples', this.strip.el),
      card('card-run', 'Run',
        h('div', { class: 'tools' }, this.levelSlider.el, this.nChoice.el, this.tChoice.el), this.levelNote,
        h('div', { class: 'buttons' }, this.runButton, this.cancelButton), this.bar, this.status),
      h('div', { class: 'columns' },
        card('card-results', 'Results — one grid per example, the source first', this.grids),
        card('card-chain', 'Langevin chain', this.chain.el)));
    void this.init(startIndex);
  }

  private async init(startIndex?: number): Promise<void> {
    try {
      const d = await this.host.request(P.DescribeCheckpoint, { runDir: this.runDir });
      this.sigmas = d.schedule.sigmas;
      this.levelSlider.input.max = String(this.sigmas.length);
      this.setLevel(Math.max(1, Math.round(this.sigmas.length * 0.6)));
    } catch (e) {
      setText(this.status, `Could not read the run: ${errorText(e)}`);
    }
    await this.strip.load(startIndex !== undefined ? Math.floor(startIndex / 12) * 12 : 0);
    const first = this.strip.examples.find((e) => e.index === startIndex) ?? this.strip.examples[0];
    if (first) this.strip.select(first.index);
  }

  setLevel(level: number): void {
    const L = this.sigmas.length;
    this.level = Math.min(Math.max(1, level), Math.max(1, L));
    this.levelSlider.input.value = String(this.level);
    this.levelSlider.out.value = `${this.level} / ${L} · σ = ${formatNumber(this.sigmas[this.level - 1] ?? null, 3)}`;
    const where = this.level === 1 ? 'the largest noise: the source is forgotten, these are new samples'
      : this.level / L > 0.75 ? 'little noise: close variations of the source' : 'medium noise: variations that keep the rough shape';
    setText(this.levelNote, `Start at level ${this.level}: ${where}. Left: new samples · right: close copies.`);
  }

  async run(): Promise<void> {
    const picked = [...this.picked];
    if (!picked.length) return;
    this.cancelled = false;
    setDisabled(this.runButton, true);
    setDisabled(this.cancelButton, false);
    this.grids.replaceChildren();
    this.results.length = 0;
    try {
      for (const [k, ex] of picked.entries()) {
        if (this.cancelled) break;
        this.chain.reset();
        showProgress(this.bar, null);
        setText(this.status, `Example ${ex.index} (${k + 1} of ${picked.length}): starting…`);
        const { jobId } = await this.host.request(P.Vary, {
          runDir: this.runDir, index: ex.index, level: this.level, n: this.nChoice.get(), stepsPerLevel: this.tChoice.get(), snapshots: 8, seed: k,
        });
        this.jobId = jobId;
        const end = await followJob(this.host, jobId, (p) => {
          showProgress(this.bar, p.done, p.total);
          setText(this.status, `Example ${ex.index} (${k + 1} of ${picked.length}): level ${p.level} of ${p.levels}`);
          this.chain.addProgress(p);
        });
        if (end.result?.type !== 'samples') {
          setText(this.status, end.message);
          break;
        }
        this.results.push({ index: ex.index, result: end.result });
        this.chain.finish(end.result.snapshots, this.sigmas.length, end.result);
        this.addGrid(ex, end.result);
      }
      if (!this.cancelled && this.results.length === picked.length) setText(this.status, `Done: ${picked.length} grid${picked.length > 1 ? 's' : ''}, started at level ${this.level}.`);
    } catch (e) {
      setText(this.status, `Variations failed: ${errorText(e)}`);
    } finally {
      this.bar.hidden = true;
      this.jobId = null;
      setDisabled(this.runButton, false);
      setDisabled(this.cancelButton, true);
    }
  }

  private addGrid(ex: P.DatasetExample, r: P.SamplingJobResult): void {
    const src = ex.png ? null : Array.from(decodeFloats(ex.values));
    const view = new SampleView(`Variations of example ${ex.index}`, 240, () => src);
    const fig = h('figure', { class: 'result-grid', 'data-index': ex.index }, view.el,
      h('figcaption', {}, `Example ${ex.index} · level ${this.level} · ${r.n - 1} variations${src ? ' (orange: the source)' : ''}`));
    this.grids.append(fig);
    view.show(r.points ? { points: r.points.slice(2) } : r);
  }

  private async cancel(): Promise<void> {
    this.cancelled = true;
    if (this.jobId) await this.host.request(P.CancelJob, { jobId: this.jobId }).catch(() => undefined);
  }

  debug(): { level: number; picked: number[]; results: number; chain: ReturnType<ChainPlayer['debug']> } {
    return { level: this.level, picked: this.picked.map((e) => e.index), results: this.results.length, chain: this.chain.debug() };
  }
}
