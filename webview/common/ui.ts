/** Small building blocks of the preview pages: buttons, sliders, a sample view, theme colours. */
import * as P from '../../protocol/protocol';
import { readTheme, type Theme } from '../dashboard/charts';
import { h, setText } from '../dashboard/dom';

export { h, setText };

export function button(label: string, onClick: () => void, opts: { id?: string; secondary?: boolean; title?: string } = {}): HTMLElement {
  const b = h('vscode-button', { id: opts.id, secondary: opts.secondary ?? false, title: opts.title });
  b.textContent = label;
  b.addEventListener('click', () => {
    if (!b.hasAttribute('disabled')) onClick();
  });
  return b;
}

export function setDisabled(el: HTMLElement, disabled: boolean): void {
  if (disabled) el.setAttribute('disabled', '');
  else el.removeAttribute('disabled');
}

/** A labelled range input with its value shown beside it. */
export function slider(id: string, label: string, min: number, max: number, value: number, onInput: (v: number) => void): { el: HTMLElement; input: HTMLInputElement; out: HTMLOutputElement } {
  const input = h('input', { id, type: 'range', min, max, step: 1, value, class: 'range' }) as HTMLInputElement;
  const out = h('output', { for: id, class: 'range-value', id: `${id}-value` }) as HTMLOutputElement;
  input.addEventListener('input', () => onInput(Number(input.value)));
  return { el: h('div', { class: 'tool' }, h('label', { for: id }, label), input, out), input, out };
}

/** A labelled choice among numbers (a native select, themed by the CSS). */
export function choice(id: string, label: string, values: number[], value: number): { el: HTMLElement; get(): number } {
  const sel = h('select', { id, class: 'select' }, ...values.map((v) => h('option', { value: v, selected: v === value }, String(v)))) as HTMLSelectElement;
  return { el: h('div', { class: 'tool' }, h('label', { for: id }, label), sel), get: () => Number(sel.value) };
}

export function progressBar(id: string): HTMLElement & { value?: number; max?: number; indeterminate?: boolean } {
  const bar = h('vscode-progress-bar', { id, 'aria-label': 'Progress' }) as HTMLElement & { value?: number; max?: number; indeterminate?: boolean };
  bar.hidden = true;
  return bar;
}

export function showProgress(bar: HTMLElement & { value?: number; max?: number; indeterminate?: boolean }, done: number | null, total = 1): void {
  bar.hidden = false;
  if (done === null) bar.indeterminate = true;
  else {
    bar.indeterminate = false;
    bar.max = total || 1;
    bar.value = done;
  }
}

let theme: Theme | null = null;
/** The theme's colours (re-read when VS Code switches theme: it changes the body class). */
export function colors(): Theme {
  theme ??= readTheme();
  return theme;
}
new MutationObserver(() => (theme = null)).observe(document.body, { attributes: true, attributeFilter: ['class', 'style'] });
new MutationObserver(() => (theme = null)).observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });

/** Maps data coordinates to a square canvas of side `size` (CSS pixels). */
export function projector(bounds: P.Bounds, size: number): { x(v: number): number; y(v: number): number; scale: number } {
  const scale = size / Math.max(bounds[1] - bounds[0], bounds[3] - bounds[2]);
  return { x: (v) => (v - bounds[0]) * scale, y: (v) => size - (v - bounds[2]) * scale, scale };
}

/** A canvas sized for the device pixel ratio; returns its 2D context in CSS pixels. */
export function sizeCanvas(canvas: HTMLCanvasElement, width: number, height: number): CanvasRenderingContext2D {
  const dpr = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
  }
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

/** Points (flat [x, y, ...]) as dots. */
export function drawPoints(ctx: CanvasRenderingContext2D, pts: ArrayLike<number>, proj: ReturnType<typeof projector>, color: string, r = 1.6): void {
  ctx.fillStyle = color;
  ctx.beginPath();
  for (let k = 0; k + 1 < pts.length; k += 2) {
    const x = proj.x(pts[k]!), y = proj.y(pts[k + 1]!);
    ctx.moveTo(x + r, y);
    ctx.arc(x, y, r, 0, 2 * Math.PI);
  }
  ctx.fill();
}

/** The bounding square of points with a margin. */
export function pointBounds(pts: ArrayLike<number>, margin = 0.1): P.Bounds {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let k = 0; k + 1 < pts.length; k += 2) {
    x0 = Math.min(x0, pts[k]!); x1 = Math.max(x1, pts[k]!); y0 = Math.min(y0, pts[k + 1]!); y1 = Math.max(y1, pts[k + 1]!);
  }
  if (!Number.isFinite(x0)) return [-1, 1, -1, 1];
  const half = (Math.max(x1 - x0, y1 - y0, 1e-3) / 2) * (1 + 2 * margin);
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  return [cx - half, cx + half, cy - half, cy + half];
}

/** A sample picture: a PNG grid (crisp, integer-scaled) or a point cloud on a canvas. */
/** A region to outline in every tile of an image grid: one value per pixel, 1 = known, 0 = unknown (an inpainting mask). */
export interface TileOutline {
  mask: ArrayLike<number>;
  height: number;
  width: number;
}

/** The server's image grids (server/engine/images.ts imageGrid): tiles at scale 1, 2 px apart, pad value 0.5. */
const GRID_PAD = 2;

export class SampleView {
  readonly el: HTMLElement;
  private readonly img: HTMLImageElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly overlay: HTMLCanvasElement;
  private outline: TileOutline | null = null;
  private png: string | null = null;

  constructor(label: string, private readonly maxSide = 420, private readonly highlight?: () => number[] | null) {
    this.img = h('img', { class: 'sample-img', alt: label });
    this.canvas = h('canvas', { class: 'scatter-canvas', role: 'img', 'aria-label': label });
    this.overlay = h('canvas', { class: 'sample-outline', 'aria-hidden': 'true' });
    this.img.hidden = this.canvas.hidden = this.overlay.hidden = true;
    this.el = h('div', { class: 'sample-view' }, h('div', { class: 'sample-stack' }, this.img, this.overlay), this.canvas);
    this.img.addEventListener('load', () => this.fit());
  }

  /** Outlines `o`'s unknown region in every (non-empty) tile of the shown grids; null removes it. */
  setOutline(o: TileOutline | null): void {
    this.outline = o;
    this.drawOutline();
  }

  private fit(): void {
    const nw = this.img.naturalWidth;
    if (!nw) return;
    const fit = Math.min(this.maxSide, this.el.clientWidth || this.maxSide) / Math.max(nw, this.img.naturalHeight);
    const scale = fit >= 2 ? Math.floor(fit) : fit;
    this.img.style.width = `${Math.floor(nw * scale)}px`;
    this.drawOutline();
  }

  /** The boundary between unknown and known pixels (and the tile's edge), drawn between pixels at display scale. */
  private drawOutline(): void {
    const o = this.outline;
    const nw = this.img.naturalWidth;
    const nh = this.img.naturalHeight;
    const cols = (nw - GRID_PAD) / (o ? o.width + GRID_PAD : 1);
    const rows = (nh - GRID_PAD) / (o ? o.height + GRID_PAD : 1);
    this.overlay.hidden = !o || this.img.hidden || !nw || !Number.isInteger(cols) || !Number.isInteger(rows);
    if (!o || this.overlay.hidden) return;
    const s = this.img.clientWidth / nw;
    const ctx = sizeCanvas(this.overlay, nw * s, nh * s);
    ctx.clearRect(0, 0, nw * s, nh * s);
    const { width: W, height: H, mask } = o;
    const known = (y: number, x: number) => y < 0 || y >= H || x < 0 || x >= W || mask[y * W + x]! >= 0.5;
    const pixels = gridPixels(this.img);
    ctx.beginPath();
    for (let t = 0; t < cols * rows; t++) {
      const x0 = GRID_PAD + (t % cols) * (W + GRID_PAD);
      const y0 = GRID_PAD + Math.floor(t / cols) * (H + GRID_PAD);
      if (emptyTile(pixels, nw, x0, y0, W, H)) continue;
      const edge = (xa: number, ya: number, xb: number, yb: number) => {
        ctx.moveTo((x0 + xa) * s, (y0 + ya) * s);
        ctx.lineTo((x0 + xb) * s, (y0 + yb) * s);
      };
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          if (known(y, x)) continue;
          if (known(y - 1, x)) edge(x, y, x + 1, y);
          if (known(y + 1, x)) edge(x, y + 1, x + 1, y + 1);
          if (known(y, x - 1)) edge(x, y, x, y + 1);
          if (known(y, x + 1)) edge(x + 1, y, x + 1, y + 1);
        }
      }
    }
    ctx.strokeStyle = colors().orange;
    ctx.lineWidth = Math.max(1, Math.min(2, s / 3));
    ctx.stroke();
  }

  show(image: P.SampleImage | null, bounds?: P.Bounds): void {
    if (!image) {
      this.img.hidden = this.canvas.hidden = true;
      return;
    }
    if (image.points) {
      this.img.hidden = true;
      this.canvas.hidden = false;
      const side = Math.min(this.maxSide, Math.max(160, this.el.clientWidth || this.maxSide));
      const ctx = sizeCanvas(this.canvas, side, side);
      const t = colors();
      ctx.clearRect(0, 0, side, side);
      const b = bounds ?? pointBounds(image.points);
      const proj = projector(b, side);
      ctx.strokeStyle = t.grid;
      ctx.strokeRect(0.5, 0.5, side - 1, side - 1);
      drawPoints(ctx, image.points, proj, t.blue, 1.5);
      const hl = this.highlight?.();
      if (hl) drawPoints(ctx, hl, proj, t.orange, 4);
      return;
    }
    if (image.png) {
      this.canvas.hidden = true;
      this.img.hidden = false;
      if (image.png !== this.png) {
        this.png = image.png;
        this.img.src = `data:image/png;base64,${image.png}`;
      } else this.fit();
    }
  }
}

/** The red channel of a loaded image, row-major. */
function gridPixels(img: HTMLImageElement): Uint8ClampedArray | null {
  const c = document.createElement('canvas');
  c.width = img.naturalWidth;
  c.height = img.naturalHeight;
  const ctx = c.getContext('2d');
  if (!ctx) return null;
  ctx.drawImage(img, 0, 0);
  const rgba = ctx.getImageData(0, 0, c.width, c.height).data;
  const red = new Uint8ClampedArray(c.width * c.height);
  for (let i = 0; i < red.length; i++) red[i] = rgba[i * 4]!;
  return red;
}

/** A grid's unused tile: every pixel is the pad value (0.5, mid-gray). */
function emptyTile(red: Uint8ClampedArray | null, stride: number, x0: number, y0: number, W: number, H: number): boolean {
  if (!red) return false;
  for (let y = y0; y < y0 + H; y++) for (let x = x0; x < x0 + W; x++) if (Math.abs(red[y * stride + x]! - 127.5) > 1) return false;
  return true;
}

export function caption(id: string, text = ''): HTMLElement {
  return h('p', { class: 'caption', id }, text);
}

export function card(id: string, title: string, ...children: (Node | null)[]): HTMLElement {
  return h('section', { class: 'card', id }, h('h2', {}, title), ...children);
}
