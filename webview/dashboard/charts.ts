/**
 * uPlot charts that follow the VS Code theme: colours and fonts come from the `--vscode-*` variables
 * VS Code injects (re-read when the theme changes), sizes follow the card (ResizeObserver), and
 * reference lines (targets, the chosen gamma / eps) are drawn by a small plugin.
 */
import uPlot from 'uplot';

/** The theme's colours and font, read from the CSS variables. */
export interface Theme {
  fg: string;
  muted: string;
  grid: string;
  border: string;
  bg: string;
  font: string;
  fontSize: number;
  blue: string;
  orange: string;
  green: string;
  red: string;
  purple: string;
  yellow: string;
  focus: string;
  highContrast: boolean;
}

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  const v = style.getPropertyValue(name).trim();
  return v || fallback;
}

let probe: CanvasRenderingContext2D | null = null;

/** A CSS colour as rgba(r, g, b, a) with the given alpha (any CSS colour the canvas understands). */
export function withAlpha(color: string, alpha: number): string {
  probe ??= document.createElement('canvas').getContext('2d');
  if (!probe) return color;
  probe.fillStyle = '#000';
  probe.fillStyle = color;
  const c = probe.fillStyle; // '#rrggbb' or 'rgba(r, g, b, a)'
  if (c.startsWith('#') && c.length === 7) {
    const r = parseInt(c.slice(1, 3), 16);
    const g = parseInt(c.slice(3, 5), 16);
    const b = parseInt(c.slice(5, 7), 16);
    return `rgba(${r}, ${g}, ${b}, ${alpha})`;
  }
  const m = /^rgba?\(([^,]+),([^,]+),([^,)]+)(?:,([^)]+))?\)$/.exec(c.replace(/\s+/g, ''));
  if (m) return `rgba(${m[1]}, ${m[2]}, ${m[3]}, ${alpha * (m[4] !== undefined ? Number(m[4]) : 1)})`;
  return color;
}

export function readTheme(): Theme {
  const s = getComputedStyle(document.documentElement);
  const b = getComputedStyle(document.body);
  const get = (name: string, fallback: string) => cssVar(b, name, cssVar(s, name, fallback));
  const highContrast = document.body.classList.contains('vscode-high-contrast') || document.body.classList.contains('vscode-high-contrast-light');
  const dark = document.body.classList.contains('vscode-dark') || (highContrast && !document.body.classList.contains('vscode-high-contrast-light'));
  const fg = get('--vscode-editor-foreground', get('--vscode-foreground', dark ? '#cccccc' : '#3b3b3b'));
  const fontSize = parseFloat(get('--vscode-font-size', '13px')) || 13;
  return {
    fg,
    muted: get('--vscode-descriptionForeground', withAlpha(fg, 0.7)),
    grid: highContrast ? withAlpha(fg, 0.28) : withAlpha(fg, 0.1),
    border: get('--vscode-panel-border', withAlpha(fg, 0.2)),
    bg: get('--vscode-editor-background', dark ? '#1f1f1f' : '#ffffff'),
    font: get('--vscode-font-family', 'system-ui, sans-serif'),
    fontSize,
    blue: get('--vscode-charts-blue', '#3794ff'),
    orange: get('--vscode-charts-orange', '#d18616'),
    green: get('--vscode-charts-green', '#89d185'),
    red: get('--vscode-charts-red', '#f14c4c'),
    purple: get('--vscode-charts-purple', '#b180d7'),
    yellow: get('--vscode-charts-yellow', '#cca700'),
    focus: get('--vscode-focusBorder', '#0078d4'),
    highContrast,
  };
}

/** Canvas font for axis labels, a little smaller than the UI font. */
export function axisFont(t: Theme, delta = -2): string {
  return `${Math.max(9, Math.round(t.fontSize + delta))}px ${t.font}`;
}

/** A themed axis. */
export function axis(t: Theme, extra: uPlot.Axis = {}): uPlot.Axis {
  return {
    stroke: t.muted,
    font: axisFont(t),
    labelFont: axisFont(t, -1),
    grid: { stroke: t.grid, width: 1 },
    ticks: { stroke: t.grid, width: 1, size: 4 },
    border: { show: true, stroke: t.border, width: 1 },
    gap: 4,
    ...extra,
  };
}

/** Compact tick labels: 1e-3, 0.01, 2.5k. */
export function tickLabel(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '';
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e4 && a < 1e6 && Number.isInteger(v)) return `${+(v / 1000).toFixed(1)}k`;
  if (a >= 1e6 || a < 1e-3) return v.toExponential(0).replace('e+', 'e');
  return String(+v.toPrecision(3));
}

export const ticks = (_u: uPlot, splits: number[]) => splits.map(tickLabel);

/** Log-axis ticks: label the powers of ten (and 2, 5 between them when the range is short). */
export const logTicks = (_u: uPlot, splits: number[]) => {
  const decades = splits.length ? Math.log10(Math.max(...splits) / Math.min(...splits)) : 0;
  return splits.map((v) => {
    const m = v / Math.pow(10, Math.floor(Math.log10(v) + 1e-9));
    const lead = Math.round(m);
    if (lead === 1 || (decades < 3 && (lead === 2 || lead === 5))) return tickLabel(v);
    return '';
  });
};

/**
 * Log-axis splits: the powers of ten when the range spans two decades or more (so the grid stays
 * calm), else 1, 2, 5 per decade.
 */
export const logSplits = (_u: uPlot, _axisIdx: number, min: number, max: number): number[] => {
  if (!(min > 0 && max > min)) return [];
  const lo = Math.floor(Math.log10(min) + 1e-9);
  const hi = Math.ceil(Math.log10(max) - 1e-9);
  const decades = hi - lo;
  const steps = decades >= 2 ? [1] : [1, 2, 5];
  const every = Math.max(1, Math.ceil(decades / 8));
  const out: number[] = [];
  for (let e = lo; e <= hi; e++) {
    if ((e - lo) % every) continue;
    for (const m of steps) {
      const v = m * Math.pow(10, e);
      if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) out.push(v);
    }
  }
  return out;
};

/** A reference line or point drawn over a chart. */
export interface Marker {
  /** Vertical line at this x, or horizontal line at this y (on scale 'y'). */
  x?: number;
  y?: number;
  color: string;
  dash?: number[];
  label?: string;
  /** A dot at (x, y) instead of a line, when both are given. */
  dot?: boolean;
}

/** Draws `markers()` after the series (values outside the scales are skipped). */
export function markerPlugin(markers: () => Marker[], font: () => string): uPlot.Plugin {
  return {
    hooks: {
      draw: [
        (u: uPlot) => {
          const ctx = u.ctx;
          const { left, top, width, height } = u.bbox;
          const ratio = uPlot.pxRatio;
          ctx.save();
          ctx.beginPath();
          ctx.rect(left, top, width, height);
          ctx.clip();
          ctx.font = font().replace(/^(\d+(?:\.\d+)?)px/, (_m, px: string) => `${Math.round(Number(px) * ratio)}px`);
          for (const m of markers()) {
            const xs = u.scales.x!;
            const ys = u.scales.y!;
            const inX = m.x !== undefined && xs.min !== undefined && xs.max !== undefined && m.x >= xs.min && m.x <= xs.max;
            const inY = m.y !== undefined && ys.min !== undefined && ys.max !== undefined && m.y >= ys.min && m.y <= ys.max;
            ctx.strokeStyle = m.color;
            ctx.fillStyle = m.color;
            ctx.lineWidth = 1.5 * ratio;
            ctx.setLineDash((m.dash ?? [4, 3]).map((d) => d * ratio));
            if (m.dot) {
              if (!inX || !inY) continue;
              const px = u.valToPos(m.x!, 'x', true);
              const py = u.valToPos(m.y!, 'y', true);
              ctx.setLineDash([]);
              ctx.beginPath();
              ctx.arc(px, py, 4 * ratio, 0, 2 * Math.PI);
              ctx.fill();
              if (m.label) {
                ctx.textAlign = px > left + width * 0.7 ? 'right' : 'left';
                ctx.textBaseline = 'bottom';
                ctx.fillText(m.label, px + (ctx.textAlign === 'left' ? 6 : -6) * ratio, py - 4 * ratio);
              }
            } else if (m.x !== undefined) {
              if (!inX) continue;
              const px = Math.round(u.valToPos(m.x, 'x', true)) + 0.5;
              ctx.beginPath();
              ctx.moveTo(px, top);
              ctx.lineTo(px, top + height);
              ctx.stroke();
              if (m.label) {
                ctx.textAlign = px > left + width * 0.7 ? 'right' : 'left';
                ctx.textBaseline = 'top';
                ctx.fillText(m.label, px + (ctx.textAlign === 'left' ? 4 : -4) * ratio, top + 4 * ratio);
              }
            } else if (m.y !== undefined) {
              if (!inY) continue;
              const py = Math.round(u.valToPos(m.y, 'y', true)) + 0.5;
              ctx.beginPath();
              ctx.moveTo(left, py);
              ctx.lineTo(left + width, py);
              ctx.stroke();
              if (m.label) {
                ctx.textAlign = 'right';
                ctx.textBaseline = 'bottom';
                ctx.fillText(m.label, left + width - 4 * ratio, py - 3 * ratio);
              }
            }
          }
          ctx.restore();
        },
      ],
    },
  };
}

/** Builds a chart's options for a theme and a size. */
export type OptionsBuilder = (theme: Theme, size: { width: number; height: number }) => uPlot.Options;

/**
 * A uPlot chart in a container: created lazily once the container has a width, resized with it,
 * rebuilt on a theme change (keeping its data), and fed with `setData`.
 */
export class Chart {
  u: uPlot | null = null;
  private data: uPlot.AlignedData | null = null;
  private readonly ro: ResizeObserver;
  private lastWidth = 0;

  constructor(
    readonly el: HTMLElement,
    private build: OptionsBuilder,
    private theme: Theme,
    /** Height from the width (a fixed height by default). */
    private readonly heightFor: (width: number) => number = () => 200,
  ) {
    this.ro = new ResizeObserver(() => this.fit());
    this.ro.observe(el);
  }

  private size(): { width: number; height: number } {
    const width = Math.max(0, Math.floor(this.el.clientWidth));
    return { width, height: Math.round(this.heightFor(width)) };
  }

  private fit(): void {
    const size = this.size();
    if (size.width < 40) return;
    if (!this.u) {
      if (this.data) this.create();
      return;
    }
    if (size.width !== this.lastWidth || size.height !== this.u.height) {
      this.lastWidth = size.width;
      this.u.setSize(size);
    }
  }

  private create(): void {
    const size = this.size();
    if (size.width < 40 || !this.data) return;
    this.lastWidth = size.width;
    this.u = new uPlot(this.build(this.theme, size), this.data, this.el);
  }

  setData(data: uPlot.AlignedData, resetScales = true): void {
    const shape = (d: uPlot.AlignedData | null) => (d ? d.length : -1);
    const sameShape = shape(data) === shape(this.data);
    this.data = data;
    if (this.u && sameShape) this.u.setData(data, resetScales);
    else {
      this.u?.destroy();
      this.u = null;
      this.create();
    }
  }

  /** Rebuilds with new options (series count, scale kind) and/or theme, keeping the data. */
  rebuild(theme?: Theme, build?: OptionsBuilder): void {
    if (theme) this.theme = theme;
    if (build) this.build = build;
    this.u?.destroy();
    this.u = null;
    this.create();
  }

  redraw(): void {
    this.u?.redraw(false, false);
  }

  /** Points of the first data series, for checks. */
  get length(): number {
    return this.data?.[0]?.length ?? 0;
  }

  get dataset(): uPlot.AlignedData | null {
    return this.data;
  }

  destroy(): void {
    this.ro.disconnect();
    this.u?.destroy();
    this.u = null;
  }
}
