/**
 * The side preview panel: the latest small sample grid of the run the active editor refers to. The
 * extension pushes each fresh preview (on save, on a new checkpoint) with a busy flag while it runs.
 */
import * as P from '../../protocol/protocol';
import { formatCount, formatNumber } from '../dashboard/series';
import type { Host } from './host';
import { runName } from './inpaint';
import { SampleView, caption, h, progressBar, setText, showProgress } from '../common/ui';

export class PreviewPanelPage {
  readonly el: HTMLElement;
  result: P.PreviewResult | null = null;
  busy = false;
  private readonly title = h('h1', { id: 'preview-title' }, 'Sample preview');
  private readonly source = caption('preview-source', 'Open a file that names a run, or use the “Preview samples” CodeLens.');
  private readonly bar = progressBar('preview-progress');
  private readonly view = new SampleView('Preview samples', 520);
  private readonly info = caption('preview-info');

  constructor(host: Host) {
    this.el = h('main', { class: 'page preview-page' }, h('header', { class: 'page-head' }, this.title), this.source, this.bar, this.view.el, this.info);
    host.on((m) => {
      if (m.type !== 'preview') return;
      this.busy = m.busy;
      if (m.source) setText(this.source, m.source);
      if (m.busy) {
        showProgress(this.bar, null);
        setText(this.info, 'Sampling a fresh preview from the latest checkpoint…');
      } else this.bar.hidden = true;
      if (m.error) setText(this.info, m.error);
      if (m.result) this.show(m.result);
    });
  }

  show(r: P.PreviewResult): void {
    this.result = r;
    setText(this.title, `Samples · ${runName(r.runDir)}`);
    this.view.show(r.points ? { points: r.points } : r);
    setText(this.info, `${r.checkpoint} · step ${formatCount(r.step)} · loss ${formatNumber(r.loss)} · ${r.n} ${r.dataKind === 'image' ? 'images' : 'points'}, T = ${r.stepsPerLevel} per level · ${r.cached ? 'cached' : `${r.seconds.toFixed(1)} s`}`);
  }

  debug(): { busy: boolean; step: number | null; n: number } {
    return { busy: this.busy, step: this.result?.step ?? null, n: this.result?.n ?? 0 };
  }
}
