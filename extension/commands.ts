/**
 * The palette commands (category "High Score") and the Runs view's actions. Each command asks what it
 * needs with quick picks, or takes it as an argument (so tests, keybindings and other extensions can
 * run it without questions), sends one protocol request, and shows the result on the dashboard.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import * as P from '../protocol/protocol';
import type { Backend } from './backend';
import type { Dashboard } from './dashboardPanel';
import { showJobProgress } from './jobProgress';
import { inputCount, isPointsSpec, pickDataset, pickPreset, pickRun } from './pickers';
import type { RunsView } from './runsView';
import type { Settings } from './settings';
import type { AssignmentApi } from './assignment';

export interface CommandContext {
  backend: Backend;
  dashboard: Dashboard;
  runs: RunsView;
  output: vscode.LogOutputChannel;
  settings: () => Settings;
  assignment: AssignmentApi;
}

/** Shows a failed command's reason (the backend's messages name the problem and the fix). */
export async function showError(err: unknown, output: vscode.LogOutputChannel): Promise<void> {
  const message = err instanceof Error ? err.message : String(err);
  output.error(message);
  const choice = await vscode.window.showErrorMessage(`High Score: ${message}`, 'Show Log');
  if (choice === 'Show Log') output.show(true);
}

/** A run that has trained some steps and is not training now (listRuns shows an interrupted run as stopped). */
const resumable = (r: P.RunSummary) => r.step > 0 && (r.state === 'stopped' || r.state === 'failed' || r.state === 'finished');

export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  const { backend, dashboard, runs, output } = ctx;

  /** Registers a command whose failures are shown, not thrown into the void. */
  const command = <A extends unknown[], R>(id: string, fn: (...args: A) => Promise<R | undefined>) =>
    vscode.commands.registerCommand(id, async (...args: A) => {
      try {
        return await fn(...args);
      } catch (err) {
        await showError(err, output);
        return undefined;
      }
    });

  const freshRuns = () => runs.refresh();
  const runFromArg = (arg: unknown): string | undefined => {
    if (typeof arg === 'string') return arg;
    if (arg && typeof arg === 'object' && typeof (arg as { runDir?: unknown }).runDir === 'string') return (arg as { runDir: string }).runDir;
    if (arg && typeof arg === 'object' && typeof (arg as { dir?: unknown }).dir === 'string') return (arg as { dir: string }).dir;
    return undefined;
  };

  /** Dataset, preset and steps from quick picks. */
  async function askTraining(title: string): Promise<P.StartTrainingParams | undefined> {
    const s = ctx.settings();
    const data = await pickDataset(s, `${title} (1/3): dataset`);
    if (!data) return undefined;
    const preset = await pickPreset(isPointsSpec(data) ? 'points' : 'image', s);
    if (!preset) return undefined;
    const defaultSteps = isPointsSpec(data) ? Math.min(s.defaultSteps, 3000) : s.defaultSteps;
    const steps = await inputCount(`${title} (3/3): steps`, 'steps', defaultSteps, 1, 10_000_000,
      isPointsSpec(data) ? 'Training steps (2D toys learn in 1,000-4,000)' : 'Training steps (MNIST: about 2,000 for first digits, 10,000+ for good ones)');
    return steps === undefined ? undefined : { data, preset, steps };
  }

  async function train(args?: Partial<P.StartTrainingParams>): Promise<P.StartTrainingResult | undefined> {
    const params = args?.data ? { ...args, data: args.data } : await askTraining('High Score: Train');
    if (!params) return undefined;
    params.sampleEvery ??= ctx.settings().sampleInterval;
    const result = await backend.request(P.StartTraining, params);
    output.info(`Training ${result.runId} (${params.data})${params.studentModule ? ` with ${params.studentModule}` : ''} in ${result.runDir}`);
    showJobProgress(backend, result.jobId, `training ${result.runId}${params.studentModule ? ' with your implementation' : ''}`);
    dashboard.show(result.runDir, true);
    runs.refreshSoon(0);
    return result;
  }

  async function stopTraining(arg?: unknown): Promise<P.StopResult | undefined> {
    let runId = typeof arg === 'object' && arg && typeof (arg as { runId?: unknown }).runId === 'string' ? (arg as { runId: string }).runId : runFromArg(arg);
    if (!runId) {
      const running = (await freshRuns()).filter((r) => r.jobId);
      if (!running.length) {
        void vscode.window.showInformationMessage('No training run is going.');
        return undefined;
      }
      runId = running[0].name;
    }
    const result = await backend.request(P.StopTraining, { runId });
    void vscode.window.setStatusBarMessage(`High Score: stopping ${result.runId ?? runId} (writing a checkpoint)…`, 5000);
    return result;
  }

  async function resumeTraining(arg?: unknown): Promise<P.StartTrainingResult | undefined> {
    // From a test or a keybinding: {runDir, steps?}; from the Runs view: a run (ask for the steps); else pick one.
    let runDir = P.isRunSummary(arg) ? undefined : runFromArg(arg);
    let steps = typeof arg === 'object' && arg && typeof (arg as { steps?: unknown }).steps === 'number' ? (arg as { steps: number }).steps : undefined;
    if (!runDir) {
      const run = P.isRunSummary(arg) ? arg
        : await pickRun(await freshRuns(), 'High Score: Resume Training', resumable, 'No run to resume: every run is either running or has no checkpoint yet.');
      if (!run) return undefined;
      runDir = run.dir;
      const total = run.totalSteps ?? run.step;
      const suggested = run.state === 'finished' ? total * 2 : total;
      steps = await inputCount('High Score: Resume Training', 'steps', suggested, run.step + 1, 10_000_000, `Total steps (the run is at ${run.step})`);
      if (steps === undefined) return undefined;
    }
    const result = await backend.request(P.ResumeTraining, { runDir, ...(steps ? { steps } : {}), sampleEvery: ctx.settings().sampleInterval });
    showJobProgress(backend, result.jobId, `resuming ${result.runId}`);
    dashboard.show(result.runDir, true);
    runs.refreshSoon(0);
    return result;
  }

  /** Asks for a run that can be sampled from (it has a checkpoint). */
  async function samplableRun(arg: unknown, title: string, images = false): Promise<string | undefined> {
    const given = runFromArg(arg);
    if (given) return given;
    const run = await pickRun(await freshRuns(), title, (r) => r.step > 0 && r.state !== 'unknown' && (!images || r.dataKind === 'image'),
      images ? 'No image run with a checkpoint yet. Train one on mnist or fashion-mnist first.' : 'No run with a checkpoint yet. Train one first (High Score: Train…).');
    return run?.dir;
  }

  /** Starts a sampling job and follows it on the dashboard; tells the user where the file went. */
  async function startSampling<M extends typeof P.Sample | typeof P.Inpaint | typeof P.Vary>(method: M, params: P.RequestParams<M>): Promise<P.JobStartedResult> {
    const result = (await backend.request(method, params)) as P.JobStartedResult;
    const what = method === P.Sample ? 'sampling' : method === P.Inpaint ? 'inpainting' : 'variations';
    showJobProgress(backend, result.jobId, `${what} from ${path.basename(params.runDir)}`);
    dashboard.show(params.runDir, true);
    dashboard.follow(result.jobId);
    return result;
  }

  async function sample(arg?: unknown): Promise<P.JobStartedResult | undefined> {
    const runDir = await samplableRun(arg, 'High Score: Sample');
    if (!runDir) return undefined;
    const o = (typeof arg === 'object' && arg ? arg : {}) as Partial<P.SampleParams>;
    const points = runs.list().find((r) => r.dir === runDir)?.dataKind === 'points';
    let n = o.n;
    if (n === undefined) {
      n = await inputCount('High Score: Sample', 'samples', points ? 1000 : 64, 1, points ? 20_000 : 1024);
      if (n === undefined) return undefined;
    }
    return startSampling(P.Sample, { runDir, n, snapshots: o.snapshots ?? 10, ...(o.seed !== undefined ? { seed: o.seed } : {}), ...(o.stepsPerLevel ? { stepsPerLevel: o.stepsPerLevel } : {}) });
  }

  async function vary(arg?: unknown): Promise<P.JobStartedResult | undefined> {
    const runDir = await samplableRun(arg, 'High Score: Create Variations');
    if (!runDir) return undefined;
    const o = (typeof arg === 'object' && arg ? arg : {}) as Partial<P.VaryParams>;
    const d = await backend.request(P.DescribeCheckpoint, { runDir });
    const L = d.schedule.sigmas.length;
    let index = o.index;
    if (index === undefined) {
      index = await inputCount('High Score: Create Variations (1/3)', 'example index', 0, 0, 10_000_000, 'Which training example to vary (0 = the first)');
      if (index === undefined) return undefined;
    }
    let level = o.level;
    if (level === undefined) {
      const picks = [Math.max(1, Math.round(L * 0.8)), Math.round(L * 0.6), Math.round(L * 0.4), Math.max(1, Math.round(L * 0.2)), 1]
        .filter((v, i, a) => v >= 1 && a.indexOf(v) === i)
        .map((lv) => ({ label: `level ${lv} of ${L}`, description: `sigma ${d.schedule.sigmas[lv - 1].toPrecision(3)}`, detail: lv === 1 ? 'from the largest noise: new samples' : lv > L * 0.7 ? 'low noise: close variations' : 'medium noise', level: lv }));
      const picked = await vscode.window.showQuickPick(picks, { title: 'High Score: Create Variations (2/3): start level', placeHolder: 'Where the chain starts: low noise keeps the example, high noise forgets it' });
      if (!picked) return undefined;
      level = picked.level;
    }
    let n = o.n;
    if (n === undefined) {
      n = await inputCount('High Score: Create Variations (3/3)', 'variations', 15, 1, 256);
      if (n === undefined) return undefined;
    }
    return startSampling(P.Vary, { runDir, index, level, n });
  }

  async function inpaint(arg?: unknown): Promise<P.JobStartedResult | undefined> {
    const runDir = await samplableRun(arg, 'High Score: Inpaint', true);
    if (!runDir) return undefined;
    const o = (typeof arg === 'object' && arg ? arg : {}) as Partial<P.InpaintParams>;
    let index = o.index;
    if (index === undefined && o.image === undefined) {
      index = await inputCount('High Score: Inpaint (1/3)', 'example index', 0, 0, 10_000_000, 'Which training example to complete (0 = the first)');
      if (index === undefined) return undefined;
    }
    let maskPreset = o.maskPreset;
    if (maskPreset === undefined && o.mask === undefined) {
      const presets: { label: string; detail: string; preset: P.MaskPreset }[] = [
        { label: 'Right half unknown', detail: 'keep the left half, fill the right', preset: 'right' },
        { label: 'Left half unknown', detail: 'keep the right half, fill the left', preset: 'left' },
        { label: 'Bottom half unknown', detail: 'keep the top half, fill the bottom', preset: 'bottom' },
        { label: 'Centre square unknown', detail: 'fill the middle quarter', preset: 'centre' },
        { label: 'Random pixels unknown', detail: 'fill a random half of the pixels', preset: 'random' },
      ];
      const picked = await vscode.window.showQuickPick(presets, { title: 'High Score: Inpaint (2/3): which part to fill' });
      if (!picked) return undefined;
      maskPreset = picked.preset;
    }
    let n = o.n;
    if (n === undefined) {
      n = await inputCount('High Score: Inpaint (3/3)', 'completions', 8, 1, 256);
      if (n === undefined) return undefined;
    }
    return startSampling(P.Inpaint, {
      runDir, n,
      ...(o.image !== undefined ? { image: o.image } : { index: index ?? 0 }),
      ...(o.mask !== undefined ? { mask: o.mask } : { maskPreset: maskPreset ?? 'right' }),
    });
  }

  async function showSchedule(arg?: unknown): Promise<P.ComputeScheduleResult | undefined> {
    const data = typeof arg === 'string' ? arg : await pickDataset(ctx.settings(), 'High Score: Show Noise Schedule: dataset');
    if (!data) return undefined;
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `High Score: noise schedule for ${data}`, cancellable: false },
      () => backend.request(P.ComputeSchedule, { data }),
    );
    const sch = result.schedule;
    output.info(`Schedule for ${result.name}: sigma_1 ${sch.sigmas[0].toPrecision(4)}, sigma_L ${sch.sigmas[sch.sigmas.length - 1].toPrecision(3)}, ` +
      `L ${sch.sigmas.length}, gamma ${sch.gamma.toPrecision(4)}, T ${sch.stepsPerLevel}, eps ${sch.eps.toExponential(3)}`);
    dashboard.showSchedule(result);
    return result;
  }

  async function openDashboard(arg?: unknown): Promise<undefined> {
    let runDir = runFromArg(arg) ?? dashboard.shownRun();
    if (!runDir) {
      const list = await freshRuns();
      const pick = list.find((r) => r.jobId) ?? [...list].sort((a, b) => (b.updatedAt ?? '').localeCompare(a.updatedAt ?? ''))[0];
      runDir = pick?.dir ?? null;
    }
    dashboard.show(runDir);
    return undefined;
  }

  async function deleteRun(arg?: unknown): Promise<boolean | undefined> {
    const runDir = runFromArg(arg);
    if (!runDir) return undefined;
    const run = runs.list().find((r) => r.dir === runDir);
    if (run?.jobId) {
      void vscode.window.showWarningMessage(`${run.name} is training right now. Stop it first.`);
      return false;
    }
    const name = path.basename(runDir);
    const ok = await vscode.window.showWarningMessage(`Delete the run ${name}?`, { modal: true, detail: `This deletes ${runDir} with its checkpoints and samples.` }, 'Delete');
    if (ok !== 'Delete') return false;
    await vscode.workspace.fs.delete(vscode.Uri.file(runDir), { recursive: true, useTrash: false });
    output.info(`Deleted ${runDir}`);
    await runs.refresh();
    return true;
  }

  async function revealRun(arg?: unknown): Promise<undefined> {
    const runDir = runFromArg(arg);
    if (!runDir) return undefined;
    const uri = vscode.Uri.file(runDir);
    // In the workspace: the Explorer (works remotely too); elsewhere: the OS file manager.
    if (vscode.workspace.getWorkspaceFolder(uri)) await vscode.commands.executeCommand('revealInExplorer', uri);
    else await vscode.commands.executeCommand('revealFileInOS', uri);
    return undefined;
  }

  /**
   * The student module to use, once the blanks training and sampling need pass their checks; else
   * says which fail and where to look.
   */
  async function passingStudentModule(arg: unknown): Promise<string | undefined> {
    const given = typeof arg === 'object' && arg && typeof (arg as { studentModule?: unknown }).studentModule === 'string' ? (arg as { studentModule: string }).studentModule : undefined;
    const results = await ctx.assignment.checkAll([...P.STUDENT_TRAINING_BLANKS]);
    const mine = given ? results.find((r) => r.file === given) : results[0];
    if (!mine) {
      void vscode.window.showInformationMessage('High Score: no assignment in this workspace. Create one with "High Score: Create Assignment Workspace".');
      return undefined;
    }
    const failing = mine.blanks.filter((b) => P.STUDENT_TRAINING_BLANKS.includes(b.blank) && b.status !== 'pass');
    if (failing.length) {
      const list = failing.map((b) => `${b.title} (line ${b.line}: ${b.status === 'not-implemented' ? 'not implemented' : b.message})`).join('; ');
      const choice = await vscode.window.showWarningMessage(`High Score: training with your implementation needs these blanks to pass first: ${list}`, 'Open Test Explorer');
      if (choice) void vscode.commands.executeCommand('workbench.view.testing.focus');
      return undefined;
    }
    return mine.file;
  }

  async function trainMine(arg?: Partial<P.StartTrainingParams>): Promise<P.StartTrainingResult | undefined> {
    const studentModule = await passingStudentModule(arg);
    if (!studentModule) return undefined;
    const params = arg?.data ? { ...arg, data: arg.data } : await askTraining('High Score: Train with My Implementation');
    return params ? train({ ...params, studentModule }) : undefined;
  }

  async function sampleMine(arg?: Partial<P.SampleParams>): Promise<P.JobStartedResult | undefined> {
    const studentModule = await passingStudentModule(arg);
    if (!studentModule) return undefined;
    const runDir = await samplableRun(arg?.runDir, 'High Score: Sample with My Implementation');
    if (!runDir) return undefined;
    const points = runs.list().find((r) => r.dir === runDir)?.dataKind === 'points';
    const n = arg?.n ?? (await inputCount('High Score: Sample with My Implementation', 'samples', points ? 1000 : 64, 1, points ? 20_000 : 1024));
    if (n === undefined) return undefined;
    return startSampling(P.Sample, { runDir, n, studentModule });
  }

  return [
    command('highscore.train', train),
    command('highscore.trainMine', trainMine),
    command('highscore.sampleMine', sampleMine),
    command('highscore.stopTraining', stopTraining),
    command('highscore.resumeTraining', resumeTraining),
    command('highscore.sample', sample),
    command('highscore.inpaint', inpaint),
    command('highscore.vary', vary),
    command('highscore.showSchedule', showSchedule),
    command('highscore.openDashboard', openDashboard),
    command('highscore.showLog', async () => {
      output.show(true);
      return undefined;
    }),
    command('highscore.restartServer', async () => {
      await backend.restart();
      void vscode.window.showInformationMessage('High Score: the backend has restarted.');
      return undefined;
    }),
    command('highscore.runs.refresh', async () => {
      await runs.refresh();
      return undefined;
    }),
    command('highscore.runs.openDashboard', openDashboard),
    command('highscore.runs.sample', sample),
    command('highscore.runs.resume', resumeTraining),
    command('highscore.runs.stop', (r?: P.RunSummary) => stopTraining(r ? { runId: r.name } : undefined)),
    command('highscore.runs.delete', deleteRun),
    command('highscore.runs.reveal', revealRun),
  ];
}
