/**
 * The dashboard webview's entry point (bundled by scripts/build.mjs to dist/webview/dashboard.js,
 * its CSS to dist/webview/dashboard.css). It registers the vscode-elements it uses and starts the page.
 */
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import 'uplot/dist/uPlot.min.css';
import './dashboard.css';
import '../common/widgets.css';
import { Dashboard, VsCodeApi } from './app';

declare function acquireVsCodeApi(): VsCodeApi;

declare global {
  interface Window {
    /** The running dashboard, for the UI tests and for debugging in the webview's devtools. */
    highScoreDashboard?: Dashboard;
  }
}

function start(): void {
  const root = document.getElementById('root') ?? document.body.appendChild(document.createElement('div'));
  window.highScoreDashboard = new Dashboard(root, acquireVsCodeApi());
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
else start();
