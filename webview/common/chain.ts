/**
 * The Langevin chain player (the dashboard's sampling card, the inpainting and variations pages): the
 * snapshots of a sampling chain (live as they stream, then the job's result), a slider to scrub through
 * them, play/pause to animate them, and per snapshot the noise level, sigma, the step size alpha and the
 * ratio |alpha score| / |noise| (above 1 the score drives the chain, below 1 the noise does).
 */
import * as P from '../../protocol/protocol';
import { formatNumber } from '../dashboard/series';
import { SampleView, button, h, setText, type TileOutline } from './ui';

export interface ChainFrame {
  image: P.SampleImage;
  /** null: the final result. */
  level: number | null;
  levels: number;
  sigma: number | null;
  alpha: number | null;
  scoreNorm: number | null;
  noiseNorm: number | null;
}

const FRAME_MS = 450;

export class ChainPlayer {
  readonly el: HTMLElement;
  frames: ChainFrame[] = [];
  index = 0;
  playing = false;
  private follow = true;
  private readonly view: SampleView;
  private readonly input: HTMLInputElement;
  private readonly label: HTMLElement;
  private readonly stats: Record<'level' | 'sigma' | 'alpha' | 'ratio', HTMLElement>;
  private readonly playButton: HTMLElement;
  private raf = 0;
  private last = 0;

  constructor(idPrefix: string, label: string, maxSide = 420) {
    this.view = new SampleView(label, maxSide);
    this.input = h('input', { id: `${idPrefix}-slider`, type: 'range', min: 0, max: 0, step: 1, value: 0, class: 'range wide-range', disabled: true, 'aria-label': 'Snapshot' }) as HTMLInputElement;
    this.input.addEventListener('input', () => {
      this.pause();
      this.index = Number(this.input.value);
      this.follow = this.index === this.frames.length - 1;
      this.render();
    });
    this.label = h('output', { class: 'range-value', id: `${idPrefix}-label` });
    this.playButton = button('Play', () => (this.playing ? this.pause() : this.play()), { id: `${idPrefix}-play`, secondary: true, title: 'Animate the chain through its snapshots' });
    const stat = (k: string, name: string, title: string) => {
      const dd = h('dd', { id: `${idPrefix}-${k}` }, '—');
      return { el: h('div', { class: 'stat', title }, h('dt', {}, name), dd), dd };
    };
    const level = stat('level', 'Level', 'The noise level of this snapshot (1 = the largest sigma)');
    const sigma = stat('sigma', 'σ', 'The noise level sigma_i');
    const alpha = stat('alpha', 'α', 'The Langevin step size alpha_i = eps sigma_i² / sigma_L²');
    const ratio = stat('ratio', '‖α·score‖ / ‖noise‖', 'Above 1 the score drives the chain; below 1 the noise does');
    this.stats = { level: level.dd, sigma: sigma.dd, alpha: alpha.dd, ratio: ratio.dd };
    this.el = h('div', { class: 'chain', id: idPrefix },
      h('div', { class: 'tool chain-tool' }, this.playButton, h('label', { for: `${idPrefix}-slider` }, 'Snapshot'), this.input, this.label),
      h('dl', { class: 'stats compact' }, level.el, sigma.el, alpha.el, ratio.el),
      this.view.el);
    this.render();
  }

  /** Outlines the unknown region of an inpainting mask in every frame (null: none). */
  setOutline(o: TileOutline | null): void {
    this.view.setOutline(o);
  }

  /** A new chain. */
  reset(): void {
    this.pause();
    this.frames = [];
    this.index = 0;
    this.follow = true;
    this.render();
  }

  /** A live snapshot (samplingProgress with a snapshot). */
  addProgress(p: P.SamplingProgressParams): void {
    if (!p.snapshot) return;
    this.push({ image: p.snapshot, level: p.level, levels: p.levels, sigma: p.sigma, alpha: p.alpha, scoreNorm: p.scoreNorm, noiseNorm: p.noiseNorm });
  }

  /** The job's result: its snapshots (replacing the live ones) and the final picture. */
  finish(snapshots: readonly P.SnapshotResult[], levels: number, final: P.SampleImage | null): void {
    this.frames = snapshots.map((s) => ({
      image: s, level: s.level, levels, sigma: s.sigma, alpha: s.alpha ?? null, scoreNorm: s.scoreNorm ?? null, noiseNorm: s.noiseNorm ?? null,
    }));
    if (final) this.frames.push({ image: final, level: null, levels, sigma: null, alpha: null, scoreNorm: null, noiseNorm: null });
    if (this.follow || !this.playing) this.index = this.frames.length - 1;
    this.render();
  }

  private push(f: ChainFrame): void {
    const at = this.frames.findIndex((x) => x.level === f.level);
    if (at >= 0) this.frames[at] = f;
    else this.frames.push(f);
    if (this.follow && !this.playing) this.index = this.frames.length - 1;
    this.render();
  }

  play(): void {
    if (this.frames.length < 2) return;
    if (this.index >= this.frames.length - 1) this.index = 0;
    this.playing = true;
    this.last = performance.now();
    this.playButton.textContent = 'Pause';
    const tick = (now: number) => {
      if (!this.playing) return;
      if (now - this.last >= FRAME_MS) {
        this.last = now;
        this.index++;
        if (this.index >= this.frames.length - 1) {
          this.index = this.frames.length - 1;
          this.pause();
        }
        this.render();
      }
      if (this.playing) this.raf = requestAnimationFrame(tick);
    };
    this.raf = requestAnimationFrame(tick);
  }

  pause(): void {
    this.playing = false;
    cancelAnimationFrame(this.raf);
    this.playButton.textContent = 'Play';
  }

  /** Draws the shown snapshot again (the theme changed: point clouds take its colours). */
  redraw(): void {
    this.render();
  }

  private render(): void {
    const n = this.frames.length;
    this.input.max = String(Math.max(0, n - 1));
    this.input.value = String(this.index);
    this.input.disabled = n < 2;
    if (n < 2) this.playButton.setAttribute('disabled', '');
    else this.playButton.removeAttribute('disabled');
    const f = this.frames[this.index];
    const what = !f ? 'no snapshots yet' : f.level === null ? 'final result' : `level ${f.level} of ${f.levels}`;
    setText(this.label, n ? `${this.index + 1}/${n} · ${what}` : what);
    this.input.setAttribute('aria-valuetext', n ? `${this.index + 1} of ${n}: ${what}` : what);
    setText(this.stats.level, f ? (f.level === null ? 'final' : `${f.level} / ${f.levels}`) : '—');
    setText(this.stats.sigma, formatNumber(f?.sigma ?? null, 3));
    setText(this.stats.alpha, formatNumber(f?.alpha ?? null, 3));
    const ratio = f && f.scoreNorm !== null && f.noiseNorm !== null && f.noiseNorm > 0 ? f.scoreNorm / f.noiseNorm : null;
    setText(this.stats.ratio, formatNumber(ratio, 3));
    this.view.show(f ? f.image : null);
  }

  /** For tests. */
  debug(): { frames: number; index: number; playing: boolean } {
    return { frames: this.frames.length, index: this.index, playing: this.playing };
  }
}
