/** A terminal progress bar for long work (stderr, redrawn in place on a TTY; a line every few seconds otherwise). */
export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '?';
  const s = Math.round(sec);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export class ProgressBar {
  private lastPrint = 0;
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(private readonly label: string, private readonly enabled = true) {}

  update(done: number, total: number, info: string): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!this.tty && now - this.lastPrint < 5000 && done < total) return;
    this.lastPrint = now;
    const width = 24;
    const frac = total ? Math.min(1, done / total) : 0;
    const filled = Math.round(frac * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const line = `${this.label} ${bar} ${(frac * 100).toFixed(0).padStart(3)}% ${done}/${total} ${info}`;
    if (this.tty) process.stderr.write(`\r\x1b[2K${line}`);
    else process.stderr.write(line + '\n');
  }

  done(): void {
    if (this.enabled && this.tty) process.stderr.write('\n');
  }
}
