/**
 * The palette's questions: which dataset, which preset, how many steps, which run. Every typed value
 * is validated as the user types, with a message that says what is accepted.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type * as P from '../protocol/protocol';
import { PRESETS, type Settings } from './settings';

const DEBIAN_FASHION = '/usr/share/datasets/fashion-mnist';
const TOYS: [string, string][] = [
  ['toy:mixture', 'Two Gaussians with weights 0.8 / 0.2: does the model get the weights right? (about a minute)'],
  ['toy:8gaussians', 'Eight Gaussians on a circle'],
  ['toy:swissroll', 'A 2D swiss roll'],
  ['toy:moons', 'Two interleaved half-moons'],
  ['toy:checkerboard', 'A 4x4 checkerboard'],
];

interface DatasetItem extends vscode.QuickPickItem {
  spec?: string;
  other?: 'idx' | 'folder';
}

/** Whether a folder holds the Fashion-MNIST training images (gzipped or not). */
function hasFashion(dir: string): boolean {
  return ['train-images-idx3-ubyte.gz', 'train-images-idx3-ubyte'].some((f) => fs.existsSync(path.join(dir, f)));
}

/** The dataset items: the offline ones first, then those the settings point at, then "other". */
export function datasetItems(s: Settings): DatasetItem[] {
  const items: DatasetItem[] = [{ label: 'Images', kind: vscode.QuickPickItemKind.Separator }];
  items.push({ label: 'mnist', spec: 'mnist', description: '28x28 digits · 10,000 images · ready offline', detail: 'The handwritten digits of the course (bundled).' });
  const fashionDir = s.fashionMnist || DEBIAN_FASHION;
  if (hasFashion(fashionDir)) {
    items.push({ label: 'fashion-mnist', spec: s.fashionMnist ? `fashion-mnist:${s.fashionMnist}` : 'fashion-mnist', description: '28x28 clothing · 60,000 images · ready', detail: fashionDir });
  } else {
    items.push({ label: 'fashion-mnist', description: 'not found', detail: `No IDX files in ${fashionDir}. Install Debian's dataset-fashion-mnist or set highscore.datasets.fashionMnist.` });
  }
  if (s.cifar10) items.push({ label: 'cifar10', spec: `cifar10:${s.cifar10}`, description: '32x32 colour · from highscore.datasets.cifar10', detail: s.cifar10 });
  if (s.imageFolder) items.push({ label: 'folder', spec: `folder:${s.imageFolder}`, description: 'PNG folder · from highscore.datasets.imageFolder', detail: s.imageFolder });
  items.push({ label: '2D toys (fast; watch the score field)', kind: vscode.QuickPickItemKind.Separator });
  for (const [spec, detail] of TOYS) items.push({ label: spec, spec, description: '2D points · ready', detail });
  items.push({ label: 'Other', kind: vscode.QuickPickItemKind.Separator });
  items.push({ label: 'IDX file…', other: 'idx', description: 'an images-idx3-ubyte[.gz] file' });
  items.push({ label: 'PNG folder…', other: 'folder', description: 'a folder of same-size PNG images' });
  return items;
}

/** Asks for a dataset; undefined when cancelled. */
export async function pickDataset(s: Settings, title: string): Promise<string | undefined> {
  const items = datasetItems(s);
  const picked = await vscode.window.showQuickPick(items, { title, placeHolder: 'Dataset to train on', matchOnDescription: true, ignoreFocusOut: true });
  if (!picked) return undefined;
  if (picked.other) {
    const uris = await vscode.window.showOpenDialog({
      title: picked.other === 'idx' ? 'An IDX image file' : 'A folder of PNG images',
      canSelectFiles: picked.other === 'idx', canSelectFolders: picked.other === 'folder', canSelectMany: false,
    });
    return uris?.[0] ? `${picked.other}:${uris[0].fsPath}` : undefined;
  }
  if (!picked.spec) {
    void vscode.window.showWarningMessage(picked.detail ?? `${picked.label} is not available.`);
    return undefined;
  }
  return picked.spec;
}

export const isPointsSpec = (spec: string) => spec.startsWith('toy:');

/** Asks for a model preset fit for the data. */
export async function pickPreset(kind: 'image' | 'points', s: Settings): Promise<string | undefined> {
  const about: Record<(typeof PRESETS)[number], string> = {
    tiny: 'U-Net 8-16 channels, 1 conv per level: smoke runs, blurry digits',
    small: 'U-Net 16-32 channels, 2 convs per level: the CPU default for MNIST',
    reference: 'U-Net, 342k parameters: the course model (slow on a CPU)',
    mlp: 'Noise-conditional MLP for 2D points',
  };
  const fit = kind === 'points' ? ['mlp'] : ['small', 'tiny', 'reference'];
  const preferred = s.defaultPreset !== 'auto' && fit.includes(s.defaultPreset) ? s.defaultPreset : fit[0];
  const ordered = [preferred, ...fit.filter((p) => p !== preferred)] as (typeof PRESETS)[number][];
  const picked = await vscode.window.showQuickPick(
    ordered.map((p) => ({ label: p, description: p === preferred ? 'default' : '', detail: about[p] })),
    { title: 'Model preset', placeHolder: 'Network size', ignoreFocusOut: true },
  );
  return picked?.label;
}

/** Checks a typed count; the message says what is accepted (undefined = fine). */
export function countProblem(text: string, what: string, min: number, max: number): string | undefined {
  const t = text.trim().replace(/[_,]/g, '');
  if (!/^\d+$/.test(t)) return `Type a whole number of ${what} (${min} to ${max.toLocaleString('en')}).`;
  const n = Number(t);
  if (n < min || n > max) return `${what[0].toUpperCase()}${what.slice(1)} must be between ${min} and ${max.toLocaleString('en')}.`;
  return undefined;
}

/** Asks for a count, validated while typing. */
export async function inputCount(title: string, what: string, value: number, min: number, max: number, prompt?: string): Promise<number | undefined> {
  const text = await vscode.window.showInputBox({
    title, prompt: prompt ?? `Number of ${what}`, value: String(value), ignoreFocusOut: true,
    validateInput: (t) => countProblem(t, what, min, max),
  });
  return text === undefined ? undefined : Number(text.trim().replace(/[_,]/g, ''));
}

const STATE_ICON: Record<P.RunSummary['state'], string> = {
  running: '$(sync~spin)', finished: '$(pass)', stopped: '$(debug-pause)', failed: '$(error)', unknown: '$(question)',
};

/** A one-line summary of a run for lists. */
export function runLine(r: P.RunSummary): string {
  const loss = r.lastLoss === null ? '' : ` · loss ${formatNumber(r.lastLoss)}`;
  const steps = r.totalSteps ? `${r.step}/${r.totalSteps}` : `${r.step}`;
  return `${r.interrupted ? 'interrupted' : r.state} · step ${steps}${loss}`;
}

/** Asks for a run among those that pass `filter`; says what to do when there is none. */
export async function pickRun(runs: P.RunSummary[], title: string, filter: (r: P.RunSummary) => boolean, none: string): Promise<P.RunSummary | undefined> {
  const fit = runs.filter(filter).sort((a, b) => (b.updatedAt ?? '').localeCompare(a.updatedAt ?? ''));
  if (!fit.length) {
    void vscode.window.showInformationMessage(none);
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    fit.map((r) => ({ label: `${STATE_ICON[r.state]} ${r.name}`, description: runLine(r), detail: [r.data, r.preset].filter(Boolean).join(' · '), run: r })),
    { title, placeHolder: 'Run', matchOnDescription: true, ignoreFocusOut: true },
  );
  return picked?.run;
}

/** 4 significant digits, exponent for very large or small values. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : Number(v.toPrecision(4)).toString();
}
