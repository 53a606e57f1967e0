/**
 * The inpainting panel: pick an image (the dataset strip or a PNG file), paint the part to fill on a
 * canvas (brush, eraser, presets), run NCSN inpainting and watch the chain: the known pixels stay the
 * source plus that level's noise, the unknown ones are sampled. The result saves as a PNG.
 */
import * as P from '../../protocol/protocol';
import { ChainPlayer } from '../common/chain';
import { errorText } from '../common/requests';
import { decodeFloats, encodeFloats, followJob, type Host } from './host';
import { ExampleStrip } from './strip';
import { button, caption, card, choice, colors, h, progressBar, setDisabled, setText, showProgress, sizeCanvas, slider } from '../common/ui';

export type Preset = 'left' | 'right' | 'centre' | 'random' | 'clear';

/** The mask of a preset, one value per pixel: 1 = known, 0 = to fill (as the protocol's masks and the engine's presets). */
export function presetMask(H: number, W: number, preset: Preset, seed = 1): Uint8Array {
  const m = new Uint8Array(H * W).fill(1);
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const unknown = preset === 'left' ? x < W / 2 : preset === 'right' ? x >= W / 2
        : preset === 'centre' ? Math.abs(x + 0.5 - W / 2) < W / 4 && Math.abs(y + 0.5 - H / 2) < H / 4
          : preset === 'random' ? rand() < 0.5 : false;
      if (unknown) m[y * W + x] = 0;
    }
  }
  return m;
}

export class InpaintPage {
  readonly el: HTMLElement;
  shape: [number, number, number] = [28, 28, 1];
  image: Float32Array | null = null;
  mask: Uint8Array = new Uint8Array(0);
  mode: 'paint' | 'erase' = 'paint';
  brush = 2;
  result: P.SamplingJobResult | null = null;
  private jobId: string | null = null;
  private readonly canvas: HTMLCanvasElement;
  private readonly strip: ExampleStrip;
  private readonly chain = new ChainPlayer('inpaint-chain', 'Inpainting chain');
  private readonly status = caption('inpaint-status', 'Pick an image, paint the part to fill, then Run.');
  private readonly bar = progressBar('inpaint-progress');
  private readonly runButton: HTMLElement;
  private readonly cancelButton: HTMLElement;
  private readonly saveButton: HTMLElement;
  private readonly nChoice = choice('inpaint-n', 'Completions', [1, 4, 8, 16], 4);
  private readonly tChoice = choice('inpaint-t', 'Steps per level', [1, 2, 5], 2);
  private readonly source = caption('inpaint-source', 'No image yet.');
  private painting = false;
  private readonly side = 280;

  constructor(private readonly host: Host, readonly runDir: string, startIndex?: number) {
    this.canvas = h('canvas', { id: 'mask-canvas', class: 'mask-canvas', role: 'img', 'aria-label': 'Image and mask: tinted pixels will be filled' });
    this.strip = new ExampleStrip(host, runDir, false, (sel) => {
      const e = sel[0];
      if (e) this.setImage(decodeFloats(e.values), `training example ${e.index}`);
    }, 12, [button('Open PNG…', () => host.post({ type: 'pickPng' }), { id: 'open-png', secondary: true, title: 'Use a PNG file (resized to the run’s image size)' })]);
    this.runButton = button('Run inpainting', () => void this.run(), { id: 'run' });
    this.cancelButton = button('Cancel', () => void this.cancel(), { id: 'cancel', secondary: true });
    this.saveButton = button('Save PNG…', () => this.save(), { id: 'save', secondary: true, title: 'Save the result grid (masked input first, then the completions)' });
    setDisabled(this.cancelButton, true);
    setDisabled(this.saveButton, true);
    setDisabled(this.runButton, true);
    const brush = slider('brush', 'Brush', 1, 8, this.brush, (v) => { this.brush = v; brush.out.value = `${v}px`; });
    brush.out.value = `${this.brush}px`;
    const modeSel = h('div', { class: 'segmented', role: 'radiogroup', 'aria-label': 'Brush mode' },
      ...(['paint', 'erase'] as const).map((m) => {
        const b = h('button', { class: 'seg', id: `mode-${m}`, role: 'radio', 'aria-checked': m === this.mode ? 'true' : 'false', title: m === 'paint' ? 'Mark pixels to fill' : 'Mark pixels as known again' }, m === 'paint' ? 'Paint (fill)' : 'Erase (keep)');
        b.addEventListener('click', () => {
          this.mode = m;
          for (const s of modeSel.querySelectorAll('.seg')) s.setAttribute('aria-checked', s === b ? 'true' : 'false');
        });
        return b;
      }));
    const presets = h('div', { class: 'buttons' }, h('span', { class: 'label' }, 'Presets'),
      ...([['left', 'Left half'], ['right', 'Right half'], ['centre', 'Centre square'], ['random', 'Random pixels'], ['clear', 'Clear']] as const)
        .map(([p, label]) => button(label, () => this.applyPreset(p), { id: `preset-${p}`, secondary: true })));
    this.bindCanvas();
    this.el = h('main', { class: 'page inpaint-page' },
      h('header', { class: 'page-head' }, h('h1', {}, 'Inpainting'), h('span', { class: 'run-name', title: runDir }, runName(runDir))),
      card('card-source', 'Image', this.strip.el),
      h('div', { class: 'columns' },
        card('card-mask', 'Mask — paint the part to fill',
          h('div', { class: 'tools' }, modeSel, brush.el), presets, this.canvas, this.source,
          h('p', { class: 'caption legend' }, h('span', { class: 'swatch' }), ' tinted: unknown (filled by the model) · clear: known (kept)')),
        card('card-run', 'Run',
          h('div', { class: 'tools' }, this.nChoice.el, this.tChoice.el),
          h('div', { class: 'buttons' }, this.runButton, this.cancelButton, this.saveButton), this.bar, this.status,
          this.chain.el,
          caption('chain-note', 'Along the chain the known pixels are the source plus that level’s noise; the unknown ones (outlined) are sampled. The final frame shows the masked input, then the completions.'))));
    host.on((m) => {
      if (m.type === 'pngFile') void this.loadPng(m.png, m.name);
    });
    void this.init(startIndex);
  }

  private async init(startIndex?: number): Promise<void> {
    await this.strip.load(startIndex !== undefined ? Math.floor(startIndex / 12) * 12 : 0);
    const r = this.strip.result;
    if (!r) return;
    if (r.kind !== 'image') {
      setText(this.status, 'Inpainting needs an image run; this run is on 2D points.');
      return;
    }
    this.shape = r.shape as [number, number, number];
    this.mask = presetMask(this.shape[0], this.shape[1], 'right');
    const first = r.examples.find((e) => e.index === startIndex) ?? r.examples[0];
    if (first) this.strip.select(first.index);
  }

  setImage(values: Float32Array, what: string): void {
    this.image = values;
    if (this.mask.length !== this.shape[0] * this.shape[1]) this.mask = presetMask(this.shape[0], this.shape[1], 'right');
    setText(this.source, `Image: ${what} (${this.shape[1]}×${this.shape[0]}).`);
    setDisabled(this.runButton, false);
    this.draw();
  }

  applyPreset(p: Preset): void {
    this.mask = presetMask(this.shape[0], this.shape[1], p, Date.now() & 0xffff);
    this.draw();
  }

  /** Decodes a PNG, resized to the run's H x W (gray for 1 channel). */
  private async loadPng(png: string, name: string): Promise<void> {
    const img = new Image();
    img.src = `data:image/png;base64,${png}`;
    try {
      await img.decode();
    } catch {
      setText(this.status, `${name} is not a readable PNG.`);
      return;
    }
    const [H, W, C] = this.shape;
    const c = document.createElement('canvas');
    c.width = W;
    c.height = H;
    const ctx = c.getContext('2d')!;
    ctx.drawImage(img, 0, 0, W, H);
    const px = ctx.getImageData(0, 0, W, H).data;
    const v = new Float32Array(H * W * C);
    for (let i = 0; i < H * W; i++) {
      if (C === 1) v[i] = (0.299 * px[4 * i]! + 0.587 * px[4 * i + 1]! + 0.114 * px[4 * i + 2]!) / 255;
      else for (let k = 0; k < C; k++) v[i * C + k] = px[4 * i + k]! / 255;
    }
    this.setImage(v, `${name}, resized to the run’s size`);
  }

  private bindCanvas(): void {
    const paint = (e: PointerEvent) => {
      const r = this.canvas.getBoundingClientRect();
      const [H, W] = this.shape;
      const cx = ((e.clientX - r.left) / r.width) * W;
      const cy = ((e.clientY - r.top) / r.height) * H;
      const rad = this.brush / 2;
      for (let y = Math.floor(cy - rad); y <= Math.ceil(cy + rad); y++) {
        for (let x = Math.floor(cx - rad); x <= Math.ceil(cx + rad); x++) {
          if (x < 0 || y < 0 || x >= W || y >= H) continue;
          if (Math.hypot(x + 0.5 - cx, y + 0.5 - cy) <= Math.max(rad, 0.71)) this.mask[y * W + x] = this.mode === 'paint' ? 0 : 1;
        }
      }
      this.draw();
    };
    this.canvas.addEventListener('pointerdown', (e) => {
      this.painting = true;
      this.canvas.setPointerCapture(e.pointerId);
      paint(e);
    });
    this.canvas.addEventListener('pointermove', (e) => {
      if (this.painting) paint(e);
    });
    const stop = () => (this.painting = false);
    this.canvas.addEventListener('pointerup', stop);
    this.canvas.addEventListener('pointercancel', stop);
  }

  /** The image in gray/RGB with the unknown part tinted. */
  draw(): void {
    const [H, W, C] = this.shape;
    const ctx = sizeCanvas(this.canvas, this.side, this.side * (H / W));
    const off = document.createElement('canvas');
    off.width = W;
    off.height = H;
    const octx = off.getContext('2d')!;
    const data = octx.createImageData(W, H);
    const tint = parseColor(colors().orange);
    for (let i = 0; i < H * W; i++) {
      for (let k = 0; k < 3; k++) {
        const v = this.image ? this.image[i * C + (C === 1 ? 0 : k)]! : 0.5;
        const base = Math.max(0, Math.min(255, Math.round(v * 255)));
        data.data[4 * i + k] = this.mask[i] ? base : Math.round(0.45 * base + 0.55 * tint[k]!);
      }
      data.data[4 * i + 3] = 255;
    }
    octx.putImageData(data, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(off, 0, 0, this.side, this.side * (H / W));
  }

  async run(): Promise<void> {
    if (!this.image) return;
    const [H, W, C] = this.shape;
    const mask = new Float32Array(H * W * C);
    for (let i = 0; i < H * W; i++) for (let k = 0; k < C; k++) mask[i * C + k] = this.mask[i]!;
    if (mask.every((v) => v === 1)) {
      setText(this.status, 'Paint the part to fill first: the mask keeps every pixel.');
      return;
    }
    setDisabled(this.runButton, true);
    setDisabled(this.saveButton, true);
    setDisabled(this.cancelButton, false);
    this.chain.reset();
    this.chain.setOutline({ mask: this.mask.slice(), height: H, width: W });
    showProgress(this.bar, null);
    setText(this.status, 'Starting…');
    try {
      const { jobId } = await this.host.request(P.Inpaint, {
        runDir: this.runDir, n: this.nChoice.get(), stepsPerLevel: this.tChoice.get(), snapshots: 10,
        image: encodeFloats(this.image), mask: encodeFloats(mask), seed: Date.now() % 1000,
      });
      this.jobId = jobId;
      let levels = 0;
      const end = await followJob(this.host, jobId, (p) => {
        levels = p.levels;
        showProgress(this.bar, p.done, p.total);
        setText(this.status, `Level ${p.level} of ${p.levels} · σ = ${p.sigma.toPrecision(3)}`);
        this.chain.addProgress(p);
      });
      this.bar.hidden = true;
      if (end.result?.type === 'samples') {
        this.result = end.result;
        this.chain.finish(end.result.snapshots, levels, end.result);
        setDisabled(this.saveButton, false);
        setText(this.status, `Done in ${end.result.seconds.toFixed(1)} s: the masked input first, then ${end.result.n - 1} completions.`);
      } else setText(this.status, end.message);
    } catch (e) {
      this.bar.hidden = true;
      setText(this.status, `Inpainting failed: ${errorText(e)}`);
    } finally {
      this.jobId = null;
      setDisabled(this.runButton, false);
      setDisabled(this.cancelButton, true);
    }
  }

  private async cancel(): Promise<void> {
    if (this.jobId) await this.host.request(P.CancelJob, { jobId: this.jobId }).catch(() => undefined);
  }

  private save(): void {
    if (this.result?.png) this.host.post({ type: 'savePng', png: this.result.png, name: `inpainting-${runName(this.runDir)}.png` });
  }

  debug(): { painted: number; known: number; hasImage: boolean; chain: ReturnType<ChainPlayer['debug']> } {
    let painted = 0;
    for (const v of this.mask) if (!v) painted++;
    return { painted, known: this.mask.length - painted, hasImage: this.image !== null, chain: this.chain.debug() };
  }
}

export const runName = (runDir: string): string => runDir.split(/[\\/]/).filter(Boolean).pop() ?? runDir;

let probe: CanvasRenderingContext2D | null = null;
function parseColor(c: string): [number, number, number] {
  probe ??= document.createElement('canvas').getContext('2d');
  if (!probe) return [209, 134, 22];
  probe.fillStyle = '#d18616';
  probe.fillStyle = c;
  probe.fillRect(0, 0, 1, 1);
  const d = probe.getImageData(0, 0, 1, 1).data;
  return [d[0]!, d[1]!, d[2]!];
}
