/**
 * Connects a preview page (webview/previews) to the backend: it answers the page's requests (only the
 * protocol's PAGE_REQUESTS, every message checked with isFromPreviewPage), forwards the notifications
 * of the jobs the page started, and does what a page cannot (pick a PNG file, save one, open a tool).
 */
import * as path from 'path';
import * as vscode from 'vscode';
import * as P from '../../protocol/protocol';
import type { Backend } from '../backend';
import { dashboardHtml, makeNonce } from '../dashboardHtml';

export interface PreviewContext {
  context: vscode.ExtensionContext;
  backend: Backend;
  output: vscode.LogOutputChannel;
}

/** Webview options for the preview pages: scripts, and only dist/webview and media as local resources. */
export function pageOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')] };
}

/**
 * The extension's side of the request relay that the preview pages and the dashboard share: forwards a
 * webview's checked request to the backend (only the protocol's PAGE_REQUESTS, checked again here) and
 * posts the answer or the error back; `onJob` hears of the jobs a request started (inpaint, vary), so
 * their notifications can follow.
 */
export async function relayPageRequest(backend: Backend, m: P.PageRequestMessage, post: (r: P.PageResponseMessage) => void, onJob?: (jobId: string) => void): Promise<void> {
  if (!(P.PAGE_REQUESTS as readonly string[]).includes(m.method)) {
    post({ type: 'response', id: m.id, error: `${String(m.method)} is not a request a webview may make.` });
    return;
  }
  try {
    const result = await backend.request(m.method, m.params as never);
    if ((m.method === P.Inpaint || m.method === P.Vary) && P.isJobStartedResult(result)) onJob?.(result.jobId);
    post({ type: 'response', id: m.id, result });
  } catch (err) {
    post({ type: 'response', id: m.id, error: err instanceof Error ? err.message : String(err) });
  }
}

/** Loads the page into `webview` and serves it; `onOpen` opens another tool (the checkpoint editor's buttons). */
export function attachPage(
  ctx: PreviewContext,
  webview: vscode.Webview,
  init: P.PreviewPageInit,
  title: string,
  onOpen: (page: P.PreviewPage, runDir: string) => void,
): { post(m: P.ToPreviewPage): void; dispose(): void } {
  const uri = ctx.context.extensionUri;
  webview.options = pageOptions(uri);
  const asset = (name: string) => webview.asWebviewUri(vscode.Uri.joinPath(uri, 'dist', 'webview', name)).toString();
  webview.html = dashboardHtml({ cspSource: webview.cspSource, nonce: makeNonce(), scriptUri: asset('previews.js'), styleUri: asset('previews.css'), title });
  const jobs = new Set<string>();
  const post = (m: P.ToPreviewPage) => void webview.postMessage(m);
  const subs: vscode.Disposable[] = [
    ctx.backend.onNotification(P.SamplingProgress, (p) => {
      if (jobs.has(p.jobId)) post({ type: 'notification', method: P.SamplingProgress, params: p });
    }),
    ctx.backend.onNotification(P.JobEnded, (p) => {
      if (!jobs.delete(p.jobId)) return;
      post({ type: 'notification', method: P.JobEnded, params: p });
    }),
    webview.onDidReceiveMessage(async (raw: unknown) => {
      if (!P.isFromPreviewPage(raw)) {
        ctx.output.warn(`Ignored a malformed message from a preview page: ${JSON.stringify(raw)?.slice(0, 200)}`);
        return;
      }
      switch (raw.type) {
        case 'ready': post({ type: 'init', init }); return;
        case 'request': return relayPageRequest(ctx.backend, raw, post, (jobId) => jobs.add(jobId));
        case 'pickPng': {
          const picked = await vscode.window.showOpenDialog({ title: 'High Score: an image to inpaint', filters: { 'PNG images': ['png'] }, canSelectMany: false });
          if (!picked?.[0]) return;
          const bytes = await vscode.workspace.fs.readFile(picked[0]);
          post({ type: 'pngFile', png: Buffer.from(bytes).toString('base64'), name: path.basename(picked[0].fsPath) });
          return;
        }
        case 'savePng': {
          const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
          const target = await vscode.window.showSaveDialog({ title: 'High Score: save the result', filters: { 'PNG images': ['png'] }, ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, raw.name) } : {}) });
          if (!target) return;
          await vscode.workspace.fs.writeFile(target, Buffer.from(raw.png, 'base64'));
          void vscode.window.showInformationMessage(`High Score: saved ${path.basename(target.fsPath)}.`);
          return;
        }
        case 'open': onOpen(raw.page, raw.runDir); return;
      }
    }),
  ];
  return { post, dispose: () => subs.forEach((s) => s.dispose()) };
}
