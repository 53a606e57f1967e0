/**
 * The preview pages' entry (bundled by scripts/build.mjs to dist/webview/previews.js and .css): the
 * inpainting and variations panels, the score field, the checkpoint editor and the side preview. The
 * extension says which page with its first message ('init').
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import 'uplot/dist/uPlot.min.css';
import '../dashboard/dashboard.css';
import '../common/widgets.css';
import './previews.css';
import * as P from '../../protocol/protocol';
import { CheckpointPage } from './checkpoint';
import { FieldPage } from './field';
import { Host, type VsCodeApi } from './host';
import { InpaintPage } from './inpaint';
import { PreviewPanelPage } from './preview';
import { VaryPage } from './vary';

declare function acquireVsCodeApi(): VsCodeApi;

type Page = InpaintPage | VaryPage | FieldPage | CheckpointPage | PreviewPanelPage;

declare global {
  interface Window {
    /** The running page, for the UI tests and for debugging in the webview's devtools. */
    highScorePreview?: { host: Host; page: Page | null; init: P.PreviewPageInit | null };
  }
}

function create(host: Host, init: P.PreviewPageInit): Page | string {
  if (init.page === 'preview') return new PreviewPanelPage(host);
  if (!init.runDir) return 'No run chosen: train one first (High Score: Train…), then open this tool from the palette or the Runs view.';
  switch (init.page) {
    case 'inpaint': return new InpaintPage(host, init.runDir, init.index);
    case 'vary': return new VaryPage(host, init.runDir, init.index);
    case 'field': return new FieldPage(host, init.runDir);
    case 'checkpoint': return new CheckpointPage(host, init.runDir, init.source);
  }
}

function start(): void {
  const root = document.getElementById('root') ?? document.body.appendChild(document.createElement('div'));
  const host = new Host(acquireVsCodeApi());
  const state: NonNullable<Window['highScorePreview']> = { host, page: null, init: null };
  window.highScorePreview = state;
  host.on((m) => {
    if (m.type !== 'init' || state.init) return;
    state.init = m.init;
    const page = create(host, m.init);
    if (typeof page === 'string') {
      const p = document.createElement('p');
      p.className = 'placeholder';
      p.textContent = page;
      root.replaceChildren(p);
      return;
    }
    state.page = page;
    root.replaceChildren(page.el);
  });
  host.post({ type: 'ready' });
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
else start();
