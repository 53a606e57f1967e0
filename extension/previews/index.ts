/**
 * In-editor previews and the interactive tools (issue 5), wired from extension.ts with one call:
 *  - a CodeLens "Preview samples" above the sampler of the assignment module and on every line that
 *    names a run, rendering a fresh small grid (highscore/preview) in a side preview panel;
 *  - the side preview panel follows the active editor, and updates on save and when a new checkpoint lands;
 *  - a hover on a run name or checkpoint path shows the run's latest samples and key figures;
 *  - a custom editor for checkpoints' model.json (config, schedule, loss, samples, tool buttons);
 *  - the commands Inpaint Interactively…, Explore Variations…, Show Score Field… opening the tool panels.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import * as P from '../../protocol/protocol';
import type { Dashboard } from '../dashboardPanel';
import { attachPage, pageOptions, type PreviewContext } from './pageHost';
import { findRunRefs, SAMPLER_RE } from './runRefs';

export interface RegisterPreviewsContext extends PreviewContext {
  dashboard?: Dashboard;
  /** Whether a student module's blanks pass (then the sampler's preview uses the student's sampler). */
  assignment?: { passes(file: string, blanks: readonly string[]): boolean };
}

export const CHECKPOINT_EDITOR = 'highscore.checkpoint';
const TOOL_TITLES: Record<'inpaint' | 'vary' | 'field', string> = { inpaint: 'Inpainting', vary: 'Variations', field: 'Score Field' };
const SELECTOR: vscode.DocumentSelector = [{ scheme: 'file' }, { scheme: 'untitled' }];

const fmt = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '—' : Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : String(Number(v.toPrecision(4))));

export function registerPreviews(ctx: RegisterPreviewsContext): vscode.Disposable[] {
  const { backend, output } = ctx;
  const disposables: vscode.Disposable[] = [];

  // ---- runs, refreshed at most every few seconds (CodeLens and hovers ask often) ----
  let runs: P.RunSummary[] = [];
  let runsAt = 0;
  async function knownRuns(): Promise<P.RunSummary[]> {
    if (Date.now() - runsAt > 3000) {
      try {
        runs = await backend.request(P.ListRuns, {});
        runsAt = Date.now();
      } catch (err) {
        output.warn(`Previews could not list the runs: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return runs;
  }
  const runByName = (name: string) => runs.find((r) => r.name === name);
  /** The newest run with a checkpoint: what the sampler's lens previews. */
  const newestRun = () => runs.filter((r) => r.step > 0).sort((a, b) => (b.updatedAt ?? '').localeCompare(a.updatedAt ?? ''))[0];

  /** The run a document refers to: the first run named in it, else (the assignment's sampler) the newest run. */
  async function runOfDocument(doc: vscode.TextDocument): Promise<P.RunSummary | undefined> {
    const all = await knownRuns();
    const names = all.map((r) => r.name);
    let sampler = false;
    for (let i = 0; i < Math.min(doc.lineCount, 2000); i++) {
      const text = doc.lineAt(i).text;
      const ref = findRunRefs(text, names).find((r) => runByName(r.name));
      if (ref) return runByName(ref.name);
      sampler ||= SAMPLER_RE.test(text);
    }
    return sampler ? newestRun() : undefined;
  }

  // ---- tool panels (one per kind; asking again on another run replaces it) ----
  const tools = new Map<string, { panel: vscode.WebviewPanel; runDir: string }>();
  async function openTool(page: 'inpaint' | 'vary' | 'field', arg?: unknown): Promise<void> {
    const a = (arg ?? {}) as { runDir?: unknown; dir?: unknown; index?: unknown };
    let runDir = typeof arg === 'string' ? arg : typeof a.runDir === 'string' ? a.runDir : typeof a.dir === 'string' ? a.dir : undefined;
    if (!runDir) {
      const fit = (await knownRuns()).filter((r) => r.step > 0 && (page === 'field' ? r.dataKind === 'points' : page === 'inpaint' ? r.dataKind === 'image' : true));
      if (!fit.length) {
        void vscode.window.showInformationMessage(`High Score: no ${page === 'field' ? '2D (toy:*)' : page === 'inpaint' ? 'image' : ''} run with a checkpoint yet. Train one first (High Score: Train…).`.replace('  ', ' '));
        return;
      }
      const picked = await vscode.window.showQuickPick(fit.map((r) => ({ label: r.name, description: `${r.data ?? ''} · step ${r.step}`, run: r })), { title: `High Score: ${TOOL_TITLES[page]}`, placeHolder: 'Run' });
      if (!picked) return;
      runDir = picked.run.dir;
    }
    const old = tools.get(page);
    if (old && old.runDir === runDir && a.index === undefined) {
      old.panel.reveal();
      return;
    }
    old?.panel.dispose();
    // Beside the code, in the column the dashboard uses (not one more column per tool).
    const panel = vscode.window.createWebviewPanel(`highscore.${page}`, `${TOOL_TITLES[page]}: ${path.basename(runDir)}`, vscode.ViewColumn.Two, pageOptions(ctx.context.extensionUri));
    panel.iconPath = vscode.Uri.joinPath(ctx.context.extensionUri, 'media', 'highscore.svg');
    const host = attachPage(ctx, panel.webview, { page, runDir, ...(typeof a.index === 'number' ? { index: a.index } : {}) }, panel.title, openFromPage);
    tools.set(page, { panel, runDir });
    panel.onDidDispose(() => {
      host.dispose();
      if (tools.get(page)?.panel === panel) tools.delete(page);
    });
  }
  const openFromPage = (page: P.PreviewPage, runDir: string) => {
    if (page === 'inpaint' || page === 'vary' || page === 'field') void openTool(page, runDir);
  };

  // ---- the side preview panel ----
  let preview: { panel: vscode.WebviewPanel; post(m: P.ToPreviewPage): void } | undefined;
  let shown: { runDir: string; source: string } | undefined;
  let seq = 0;
  let seed = 0;
  function previewPanel(): NonNullable<typeof preview> {
    if (preview) return preview;
    const panel = vscode.window.createWebviewPanel('highscore.preview', 'High Score Preview', { viewColumn: vscode.ViewColumn.Two, preserveFocus: true }, pageOptions(ctx.context.extensionUri));
    panel.iconPath = vscode.Uri.joinPath(ctx.context.extensionUri, 'media', 'highscore.svg');
    const host = attachPage(ctx, panel.webview, { page: 'preview', runDir: null }, 'High Score Preview', openFromPage);
    preview = { panel, post: host.post };
    panel.onDidDispose(() => {
      host.dispose();
      preview = undefined;
      shown = undefined;
    });
    return preview;
  }
  /** The student module whose sampler previews use: the document, once its sampler's blanks pass. */
  const studentSampler = (doc: vscode.TextDocument | undefined) =>
    doc && ctx.assignment?.passes(doc.fileName, P.STUDENT_TRAINING_BLANKS) ? doc.fileName : undefined;
  async function showPreview(runDir: string, source: string, fresh = false, studentModule?: string): Promise<void> {
    const p = previewPanel();
    if (!p.panel.visible) p.panel.reveal(undefined, true);
    shown = { runDir, source };
    const mine = ++seq;
    if (fresh) seed++;
    p.post({ type: 'preview', busy: true, source });
    await vscode.window.withProgress({ location: { viewId: 'highscore.runs' }, title: 'Sampling a preview' }, async () => {
      try {
        const result = await backend.request(P.Preview, { runDir, seed, ...(studentModule ? { studentModule } : {}) });
        if (mine === seq) p.post({ type: 'preview', busy: false, result, source });
      } catch (err) {
        if (mine === seq) p.post({ type: 'preview', busy: false, source, error: `No preview: ${err instanceof Error ? err.message : String(err)}` });
      }
    });
  }
  async function followEditor(editor: vscode.TextEditor | undefined, fresh = false): Promise<void> {
    if (!preview || !editor) return;
    const run = await runOfDocument(editor.document);
    if (!run) return;
    const source = `${path.basename(editor.document.fileName)} → ${run.name}`;
    if (!fresh && shown?.runDir === run.dir) return;
    await showPreview(run.dir, source, fresh, studentSampler(editor.document));
  }

  // ---- CodeLens ----
  const lensChanged = new vscode.EventEmitter<void>();
  disposables.push(lensChanged, vscode.languages.registerCodeLensProvider(SELECTOR, {
    onDidChangeCodeLenses: lensChanged.event,
    async provideCodeLenses(doc) {
      const all = await knownRuns();
      const names = all.map((r) => r.name);
      const lenses: vscode.CodeLens[] = [];
      for (let i = 0; i < Math.min(doc.lineCount, 5000); i++) {
        const text = doc.lineAt(i).text;
        const range = new vscode.Range(i, 0, i, 0);
        if (SAMPLER_RE.test(text)) {
          const run = newestRun();
          const mine = studentSampler(doc);
          lenses.push(new vscode.CodeLens(range, run
            ? {
              title: `$(eye) Preview samples (${mine ? 'your sampler, ' : ''}${run.name})`, command: 'highscore.previewSamples',
              arguments: [{ runDir: run.dir, source: `${path.basename(doc.fileName)}: ${mine ? 'your sampler' : 'sampler'} → ${run.name}`, ...(mine ? { studentModule: mine } : {}) }],
              tooltip: mine ? 'A fresh small grid drawn by your annealedLangevin (its blanks pass) from the run’s latest checkpoint' : 'A fresh small sample grid from the run’s latest checkpoint, beside the code',
            }
            : { title: 'Preview samples: train a run first', command: 'highscore.train' }));
          continue;
        }
        const seen = new Set<string>();
        for (const ref of findRunRefs(text, names)) {
          const run = runByName(ref.name);
          if (!run || seen.has(run.name)) continue;
          seen.add(run.name);
          lenses.push(new vscode.CodeLens(range, { title: `$(eye) Preview samples (${run.name})`, command: 'highscore.previewSamples', arguments: [{ runDir: run.dir, source: `${path.basename(doc.fileName)}:${i + 1} → ${run.name}` }] }));
        }
      }
      return lenses;
    },
  }));

  // ---- hover ----
  disposables.push(vscode.languages.registerHoverProvider(SELECTOR, {
    async provideHover(doc, pos, token) {
      const all = await knownRuns();
      const line = doc.lineAt(pos.line).text;
      const ref = findRunRefs(line, all.map((r) => r.name)).find((r) => r.start <= pos.character && pos.character <= r.end);
      const run = ref && runByName(ref.name);
      if (!ref || !run) return undefined;
      const [hist, img] = await Promise.all([
        backend.request(P.RunHistory, { runDir: run.dir, maxPoints: 50 }).catch(() => undefined),
        backend.request(P.Preview, { runDir: run.dir, ...(run.dataKind === 'image' ? { n: 16 } : { n: 300 }) }).catch((err: unknown) => (err instanceof Error ? err.message : String(err))),
      ]);
      if (token.isCancellationRequested) return undefined;
      const md = new vscode.MarkdownString(undefined, true);
      md.supportHtml = true;
      md.appendMarkdown(`**${run.name}** · ${run.data ?? '?'} · ${run.preset ?? '?'} · ${run.state}\n\n`);
      if (typeof img === 'string') md.appendMarkdown(`_No samples: ${img}_\n\n`);
      else if (img.png) md.appendMarkdown(`<img src="data:image/png;base64,${img.png}" width="${run.dataKind === 'image' ? 224 : 192}" alt="Samples of ${run.name}"/>\n\n`);
      const s = hist?.config.schedule;
      const rows = [
        ['step', `${run.step}${run.totalSteps ? ` / ${run.totalSteps}` : ''}`], ['loss', fmt(run.lastLoss)],
        ...(typeof img === 'string' ? [] : [['samples', `${img.n} from ${img.checkpoint}, T = ${img.stepsPerLevel}`]]),
        ...(s ? [['schedule', `σ₁ = ${fmt(s.sigmas[0])} → σ_L = ${fmt(s.sigmas[s.sigmas.length - 1])}, L = ${s.sigmas.length}, T = ${s.stepsPerLevel}, ε = ${fmt(s.eps)}`]] : []),
        ...(ref.checkpoint ? [['checkpoint', ref.checkpoint]] : []),
      ];
      md.appendMarkdown(`| | |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}\n\n`);
      const args = encodeURIComponent(JSON.stringify([{ runDir: run.dir, source: `hover → ${run.name}` }]));
      md.appendMarkdown(`[Preview samples](command:highscore.previewSamples?${args}) · [Open Dashboard](command:highscore.openDashboard?${encodeURIComponent(JSON.stringify([run.dir]))})`);
      md.isTrusted = { enabledCommands: ['highscore.previewSamples', 'highscore.openDashboard'] };
      return new vscode.Hover(md, new vscode.Range(pos.line, ref.start, pos.line, ref.end));
    },
  }));

  // ---- the checkpoint editor ----
  disposables.push(vscode.window.registerCustomEditorProvider(CHECKPOINT_EDITOR, {
    openCustomDocument: (uri) => ({ uri, dispose: () => undefined }),
    resolveCustomEditor(doc, panel) {
      const ckDir = path.dirname(doc.uri.fsPath);
      const runDir = path.dirname(path.dirname(ckDir));
      panel.title = `${path.basename(runDir)} · ${path.basename(ckDir)}`;
      const host = attachPage(ctx, panel.webview, { page: 'checkpoint', runDir, source: path.basename(ckDir) }, panel.title, openFromPage);
      panel.onDidDispose(() => host.dispose());
    },
  }, { webviewOptions: { retainContextWhenHidden: true }, supportsMultipleEditorsPerDocument: true }));

  // ---- commands, editor following, checkpoint watcher ----
  const command = (id: string, fn: (...args: unknown[]) => Promise<void>) => vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    try {
      await fn(...args);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      output.error(message);
      void vscode.window.showErrorMessage(`High Score: ${message}`);
    }
  });
  const watcher = vscode.workspace.createFileSystemWatcher('**/.highscore/runs/*/checkpoints/latest.json');
  const onCheckpoint = (uri: vscode.Uri) => {
    runsAt = 0;
    lensChanged.fire();
    const runDir = path.dirname(path.dirname(uri.fsPath));
    if (shown && path.resolve(shown.runDir) === path.resolve(runDir)) void showPreview(shown.runDir, `${shown.source} (new checkpoint)`);
  };
  disposables.push(
    command('highscore.inpaintInteractive', (arg) => openTool('inpaint', arg)),
    command('highscore.exploreVariations', (arg) => openTool('vary', arg)),
    command('highscore.showScoreField', (arg) => openTool('field', arg)),
    command('highscore.previewSamples', async (arg) => {
      const a = (arg ?? {}) as { runDir?: unknown; source?: unknown; studentModule?: unknown };
      const editor = vscode.window.activeTextEditor;
      const runDir = typeof arg === 'string' ? arg : typeof a.runDir === 'string' ? a.runDir : editor ? (await runOfDocument(editor.document))?.dir : undefined;
      if (!runDir) {
        previewPanel().post({ type: 'preview', busy: false, error: 'This file names no run: write a run folder (.highscore/runs/NAME) or a run name, or open the assignment’s sampler.' });
        return;
      }
      await showPreview(runDir, typeof a.source === 'string' ? a.source : path.basename(runDir), true, typeof a.studentModule === 'string' ? a.studentModule : undefined);
    }),
    watcher, watcher.onDidCreate(onCheckpoint), watcher.onDidChange(onCheckpoint),
    vscode.window.onDidChangeActiveTextEditor((e) => void followEditor(e)),
    vscode.workspace.onDidSaveTextDocument((doc) => {
      if (vscode.window.activeTextEditor?.document === doc) void followEditor(vscode.window.activeTextEditor, true);
    }),
    new vscode.Disposable(() => {
      preview?.panel.dispose();
      for (const t of tools.values()) t.panel.dispose();
    }),
  );
  return disposables;
}
