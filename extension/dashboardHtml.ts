/**
 * The dashboard webview's page shell. Pure: no `vscode`, no node import, so the extension and the
 * headless-browser test build exactly the same page.
 *
 * The content security policy allows only the webview's own resources (the bundled script and CSS),
 * PNG samples as data: URLs, and the one script tag carrying the nonce. style-src keeps
 * 'unsafe-inline' because VS Code injects its default styles as an inline <style> element (and the
 * theme variables as an inline style) into every webview; scripts get no such allowance.
 */

export interface DashboardHtmlOptions {
  /** `webview.cspSource`. */
  cspSource: string;
  /** A fresh nonce per page load (see makeNonce). */
  nonce: string;
  /** `webview.asWebviewUri(dist/webview/dashboard.js)`, as a string. */
  scriptUri: string;
  /** `webview.asWebviewUri(dist/webview/dashboard.css)`, as a string. */
  styleUri: string;
  /** The document title; default 'High Score'. */
  title?: string;
}

/** Escapes text for a double-quoted HTML attribute or a text node (the CSP's single quotes stay). */
function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** The content security policy of the dashboard page. */
export function dashboardCsp(cspSource: string, nonce: string): string {
  return [
    `default-src 'none'`,
    `img-src ${cspSource} data:`,
    `style-src ${cspSource} 'unsafe-inline'`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    `base-uri 'none'`,
    `form-action 'none'`,
  ].join('; ') + ';';
}

/** The page: CSP, the stylesheet, a root element and the nonce'd script. */
export function dashboardHtml(o: DashboardHtmlOptions): string {
  if (!/^[A-Za-z0-9+/=_-]{16,}$/.test(o.nonce)) throw new Error('dashboardHtml: the nonce must be at least 16 base64/alphanumeric characters');
  const title = esc(o.title ?? 'High Score');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${esc(dashboardCsp(o.cspSource, o.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${title}</title>
<link rel="stylesheet" href="${esc(o.styleUri)}">
</head>
<body>
<div id="root" class="hs-root" aria-live="off"></div>
<script nonce="${esc(o.nonce)}" src="${esc(o.scriptUri)}"></script>
</body>
</html>
`;
}

const NONCE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A 32-character nonce. Uses Web Crypto's getRandomValues where the runtime has it (Node 20 and
 * browsers do, as a global), else Math.random; `random` can be given for tests.
 */
export function makeNonce(random?: () => number): string {
  const bytes = new Uint8Array(32);
  const c = (globalThis as { crypto?: { getRandomValues?(a: Uint8Array): Uint8Array } }).crypto;
  if (!random && c?.getRandomValues) c.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor((random ?? Math.random)() * 256) & 255;
  let out = '';
  for (const b of bytes) out += NONCE_CHARS[b % NONCE_CHARS.length];
  return out;
}
