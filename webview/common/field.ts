/**
 * The score field of a 2D run (the score field page and the dashboard's Score field card): the learned
 * score s(x, sigma_i) as arrows on a grid (one batched `highscore/scoreField` request per level, cached),
 * the data points, the true score of the analytic toys as a second arrow layer with the mean error, and
 * annealed Langevin particles moving through the levels (positions after each level from a preview
 * chain, interpolated on requestAnimationFrame).
 */
import * as P from '../../protocol/protocol';
import { formatNumber } from '../dashboard/series';
import { errorText, type Requester } from './requests';
import { button, caption, colors, drawPoints, h, progressBar, projector, setDisabled, setText, showProgress, sizeCanvas, slider } from './ui';

const LEVEL_MS = 700;

export class ScoreFieldView {
  readonly el: HTMLElement;
  level = 1;
  levels = 0;
  readonly fields = new Map<number, P.ScoreFieldResult>();
  particles: P.PreviewResult | null = null;
  /** Animation time in levels: t in [0, L - 1], particle positions between snapshot floor(t) and floor(t) + 1. */
  t = 0;
  playing = false;
  show = { learned: true, true: true, data: true, particles: true };
  private bounds: P.Bounds | null = null;
  private raf = 0;
  private lastFrame = 0;
  private readonly canvas: HTMLCanvasElement;
  private readonly levelSlider: ReturnType<typeof slider>;
  private readonly stats = caption('field-stats');
  private readonly status = caption('field-status', 'Loading the score field…');
  private readonly bar = progressBar('field-progress');
  private readonly playButton: HTMLElement;
  private side = 520;
  private readonly resize: ResizeObserver;
  private disposed = false;

  /** `maxSide`: the canvas's largest side in CSS pixels (it follows its container's width). */
  constructor(private readonly host: Requester, readonly runDir: string, private readonly maxSide = 720) {
    this.side = Math.min(this.side, maxSide);
    this.canvas = h('canvas', { id: 'field-canvas', class: 'field-canvas', role: 'img', 'aria-label': 'Score field: arrows on a grid, data points and particles' });
    this.levelSlider = slider('field-level', 'Noise level', 1, 2, 1, (v) => {
      this.pause();
      this.t = v - 1;
      void this.setLevel(v);
    });
    this.playButton = button('Play particles', () => (this.playing ? this.pause() : this.play()), { id: 'field-play', title: 'Animate annealed Langevin particles through the levels' });
    setDisabled(this.playButton, true);
    const toggle = (key: keyof ScoreFieldView['show'], label: string) => {
      const c = h('vscode-checkbox', { id: `show-${key}`, checked: this.show[key] }, label) as HTMLElement & { checked: boolean };
      c.addEventListener('change', () => {
        this.show[key] = c.checked;
        this.draw();
      });
      return c;
    };
    const legend = h('p', { class: 'caption legend', id: 'field-legend' },
      h('span', { class: 'key learned' }, '→ learned score'), ' ', h('span', { class: 'key true' }, '→ true score'), ' ',
      h('span', { class: 'key data' }, '• data'), ' ', h('span', { class: 'key particles' }, '• particles'));
    this.el = h('div', { class: 'field-view' },
      h('div', { class: 'tools field-tools' }, this.levelSlider.el, this.playButton),
      h('div', { class: 'tools field-toggles' }, toggle('learned', 'Learned score'), toggle('true', 'True score'), toggle('data', 'Data'), toggle('particles', 'Particles')),
      this.bar, this.canvas, legend, this.stats, this.status);
    this.resize = new ResizeObserver(() => {
      const w = Math.max(240, Math.min(this.maxSide, (this.canvas.parentElement?.clientWidth ?? 560) - 4));
      if (Math.abs(w - this.side) > 2) {
        this.side = w;
        this.draw();
      }
    });
    this.resize.observe(this.el);
    void this.init();
  }

  /** Stops the animation and the background requests' use (the dashboard drops the view on a run switch). */
  dispose(): void {
    this.disposed = true;
    this.pause();
    this.resize.disconnect();
  }

  private async init(): Promise<void> {
    showProgress(this.bar, null);
    try {
      const first = await this.host.request(P.ScoreField, { runDir: this.runDir, level: 1, grid: 21 });
      if (this.disposed) return;
      this.levels = first.levels;
      this.bounds = first.bounds;
      this.fields.set(1, first);
      this.levelSlider.input.max = String(this.levels);
      await this.setLevel(this.levels);
      this.t = this.levels - 1;
      setText(this.status, 'Sampling particles…');
      // The particles: a preview chain with a snapshot after every level.
      this.particles = await this.host.request(P.Preview, { runDir: this.runDir, n: 300, snapshots: this.levels });
      if (this.disposed) return;
      setDisabled(this.playButton, false);
      setText(this.status, `Particles: ${this.particles.n} annealed Langevin chains (T = ${this.particles.stepsPerLevel} per level) from checkpoint ${this.particles.checkpoint}. Press Play to watch them move through the levels.`);
      this.bar.hidden = true;
      this.draw();
      // Fetch the other levels in the background, so scrubbing and playing stay smooth.
      for (let l = 1; l <= this.levels && !this.disposed; l++) if (!this.fields.has(l)) await this.field(l);
    } catch (e) {
      if (this.disposed) return;
      this.bar.hidden = true;
      setText(this.status, `The score field is not available: ${errorText(e)}`);
    }
  }

  private async field(level: number): Promise<P.ScoreFieldResult> {
    const have = this.fields.get(level);
    if (have) return have;
    const f = await this.host.request(P.ScoreField, { runDir: this.runDir, level, grid: 21, ...(this.bounds ? { bounds: this.bounds } : {}) });
    this.fields.set(level, f);
    return f;
  }

  async setLevel(level: number): Promise<void> {
    this.level = level;
    this.levelSlider.input.value = String(level);
    const f = this.fields.get(level) ?? await this.field(level).catch((e: unknown) => (setText(this.status, errorText(e)), null));
    if (!f || this.level !== level) return;
    this.levelSlider.out.value = `${level} / ${f.levels} · σ = ${formatNumber(f.sigma, 3)}`;
    const err = f.meanError !== undefined && f.meanTrueNorm
      ? `Mean |learned − true| = ${formatNumber(f.meanError, 3)} (${Math.round((100 * f.meanError) / f.meanTrueNorm)}% of the mean |true score| ${formatNumber(f.meanTrueNorm, 3)}).`
      : 'No true score for this dataset (only the Gaussian-mixture toys have one).';
    setText(this.stats, `Level ${level} of ${f.levels}, σ = ${formatNumber(f.sigma, 3)}, checkpoint ${f.checkpoint} (step ${f.step}). ${err} Arrows are scaled together; their length grows with |s|.`);
    this.draw();
  }

  play(): void {
    if (!this.particles) return;
    if (this.t >= this.levels - 1) this.t = 0;
    this.playing = true;
    this.playButton.textContent = 'Pause';
    this.lastFrame = performance.now();
    const tick = (now: number) => {
      if (!this.playing) return;
      // A frame's timestamp can precede the performance.now() taken in play(): never step backwards.
      this.t = Math.min(this.levels - 1, this.t + Math.max(0, now - this.lastFrame) / LEVEL_MS);
      this.lastFrame = now;
      const lvl = Math.floor(this.t) + 1;
      if (lvl !== this.level && this.fields.has(lvl)) void this.setLevel(lvl);
      else this.draw();
      if (this.t >= this.levels - 1) this.pause();
      else this.raf = requestAnimationFrame(tick);
    };
    this.raf = requestAnimationFrame(tick);
  }

  pause(): void {
    this.playing = false;
    cancelAnimationFrame(this.raf);
    this.playButton.textContent = 'Play particles';
  }

  /** Particle positions at animation time t (between the snapshots of two levels). */
  private particlePositions(): number[] | null {
    const snaps = this.particles?.snapshots;
    if (!snaps?.length) return null;
    const i = Math.max(0, Math.min(snaps.length - 1, Math.floor(this.t)));
    const a = snaps[i]!.points, b = snaps[Math.min(snaps.length - 1, i + 1)]!.points;
    if (!a || !b) return null;
    const u = this.t - i;
    return a.map((v, k) => v + (b[k]! - v) * u);
  }

  draw(): void {
    const f = this.fields.get(this.level);
    const side = this.side;
    const ctx = sizeCanvas(this.canvas, side, side);
    const c = colors();
    ctx.clearRect(0, 0, side, side);
    ctx.fillStyle = c.bg;
    ctx.fillRect(0, 0, side, side);
    ctx.strokeStyle = c.border;
    ctx.strokeRect(0.5, 0.5, side - 1, side - 1);
    if (!f) return;
    const proj = projector(f.bounds, side);
    if (this.show.data) drawPoints(ctx, f.data, proj, c.muted, 1.3);
    // One scale for both layers: the 95th percentile of |s| fills a grid cell.
    const cell = side / (f.grid - 1);
    const norms: number[] = [];
    for (const v of [f.learned, f.true ?? []]) for (let k = 0; k + 1 < v.length; k += 2) norms.push(Math.hypot(v[k]!, v[k + 1]!));
    norms.sort((a, b) => a - b);
    const ref = norms[Math.floor(0.95 * (norms.length - 1))] || 1;
    const scale = (0.9 * cell) / ref / proj.scale;
    if (f.true && this.show.true) this.arrows(ctx, f, f.true, scale, proj, c.orange, 1.2);
    if (this.show.learned) this.arrows(ctx, f, f.learned, scale, proj, c.blue, 1.6);
    const pts = this.show.particles ? this.particlePositions() : null;
    if (pts) drawPoints(ctx, pts, proj, c.green, 2.2);
  }

  private arrows(ctx: CanvasRenderingContext2D, f: P.ScoreFieldResult, v: number[], scale: number, proj: ReturnType<typeof projector>, color: string, width: number): void {
    const [x0, x1, y0, y1] = f.bounds;
    const n = f.grid;
    const maxLen = (1.2 * this.side) / (n - 1);
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.beginPath();
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) {
        const k = 2 * (j * n + i);
        const px = proj.x(x0 + (i * (x1 - x0)) / (n - 1));
        const py = proj.y(y0 + (j * (y1 - y0)) / (n - 1));
        let dx = v[k]! * scale * proj.scale;
        let dy = -v[k + 1]! * scale * proj.scale;
        const len = Math.hypot(dx, dy);
        if (len < 0.5) continue;
        if (len > maxLen) { dx *= maxLen / len; dy *= maxLen / len; }
        const l = Math.hypot(dx, dy);
        const hx = (dx / l) * Math.min(5, 0.4 * l), hy = (dy / l) * Math.min(5, 0.4 * l);
        ctx.moveTo(px, py);
        ctx.lineTo(px + dx, py + dy);
        ctx.moveTo(px + dx, py + dy);
        ctx.lineTo(px + dx - hx - hy * 0.6, py + dy - hy + hx * 0.6);
        ctx.moveTo(px + dx, py + dy);
        ctx.lineTo(px + dx - hx + hy * 0.6, py + dy - hy - hx * 0.6);
      }
    }
    ctx.stroke();
  }

  debug(): { level: number; levels: number; fields: number; particles: number; t: number; playing: boolean; meanError: number | null } {
    return {
      level: this.level, levels: this.levels, fields: this.fields.size, particles: this.particles?.n ?? 0, t: this.t, playing: this.playing,
      meanError: this.fields.get(this.level)?.meanError ?? null,
    };
  }
}
