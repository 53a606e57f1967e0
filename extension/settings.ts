/**
 * The extension's settings (contributes.configuration in package.json), read and checked in one place.
 * A nonsense value falls back to the default and the user is told which setting to fix.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import * as P from '../protocol/protocol';

export const PRESETS = ['tiny', 'small', 'reference', 'mlp'] as const;

export interface Settings {
  backend: P.BackendRequest;
  /** As written in the setting (relative to the workspace folder, or absolute). */
  runsFolder: string;
  fashionMnist: string;
  cifar10: string;
  imageFolder: string;
  sampleInterval: number;
  defaultPreset: 'auto' | (typeof PRESETS)[number];
  defaultSteps: number;
}

export const DEFAULTS: Settings = {
  backend: 'auto', runsFolder: '.highscore/runs', fashionMnist: '', cifar10: '', imageFolder: '',
  sampleInterval: 500, defaultPreset: 'auto', defaultSteps: 2000,
};

/** Reads the settings; `problems` lists each setting that was ignored and why. */
export function readSettings(): { settings: Settings; problems: string[] } {
  const c = vscode.workspace.getConfiguration('highscore');
  const problems: string[] = [];
  const pick = <T>(key: string, fallback: T, ok: (v: unknown) => v is T, rule: string): T => {
    const v = c.get<unknown>(key, fallback);
    if (ok(v)) return v;
    problems.push(`highscore.${key} is ${JSON.stringify(v)}; it must be ${rule}. Using ${JSON.stringify(fallback)}.`);
    return fallback;
  };
  const isStr = (v: unknown): v is string => typeof v === 'string';
  const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  const settings: Settings = {
    backend: pick('backend', DEFAULTS.backend, (v): v is P.BackendRequest => P.BACKEND_REQUESTS.includes(v as P.BackendRequest), `one of ${P.BACKEND_REQUESTS.join(', ')}`),
    runsFolder: pick('runsFolder', DEFAULTS.runsFolder, (v): v is string => isStr(v) && v.trim() !== '', 'a folder path'),
    fashionMnist: pick('datasets.fashionMnist', '', isStr, 'a folder path'),
    cifar10: pick('datasets.cifar10', '', isStr, 'a folder path'),
    imageFolder: pick('datasets.imageFolder', '', isStr, 'a folder path'),
    sampleInterval: pick('sampleInterval', DEFAULTS.sampleInterval, isCount, 'a whole number of steps, 0 or more'),
    defaultPreset: pick('defaultPreset', DEFAULTS.defaultPreset, (v): v is Settings['defaultPreset'] => v === 'auto' || PRESETS.includes(v as never), `auto or one of ${PRESETS.join(', ')}`),
    defaultSteps: pick('defaultSteps', DEFAULTS.defaultSteps, (v): v is number => isCount(v) && v > 0, 'a whole number of steps, 1 or more'),
  };
  return { settings, problems };
}

/** The workspace folder that holds runs (the first one), if any. */
export function workspaceRoot(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/** The absolute runs folder for a setting value. */
export function resolveRunsFolder(setting: string): string | undefined {
  if (path.isAbsolute(setting)) return setting;
  const root = workspaceRoot();
  return root ? path.join(root, setting) : undefined;
}
