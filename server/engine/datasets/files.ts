/**
 * File access shared by the dataset loaders: reading a file or listing a folder with errors that name
 * the path and the fix, transparent gunzip (detected by the 1f 8b magic bytes, not the extension), and
 * user path expansion (`~/` and relative paths).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { DatasetError } from './types';

/** Expands a leading `~` to the home folder and resolves relative paths against the working folder. */
export function expandPath(p: string): string {
  let q = p.trim();
  if (q === '~') q = os.homedir();
  else if (q.startsWith('~/') || q.startsWith('~\\')) q = path.join(os.homedir(), q.slice(2));
  return path.resolve(q);
}

/** Reads a whole file; a missing file, a folder or an unreadable file becomes a DatasetError naming it. */
export function readFileChecked(file: string, what = 'file', fix = ''): Buffer {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new DatasetError(`${what} not found: ${file}${fix ? `; ${fix}` : ''}`, file);
    }
    throw new DatasetError(`cannot read ${what} ${file}: ${(e as Error).message}`, file);
  }
  if (st.isDirectory()) {
    throw new DatasetError(`${file} is a folder, but a ${what} is needed here${fix ? `; ${fix}` : ''}`, file);
  }
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new DatasetError(`cannot read ${what} ${file}: ${(e as Error).message}`, file);
  }
}

/** Checks that a folder exists and is a folder. */
export function checkFolder(dir: string, what = 'folder', fix = ''): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new DatasetError(`${what} not found: ${dir}${fix ? `; ${fix}` : ''}`, dir);
  }
  if (!st.isDirectory()) {
    throw new DatasetError(`${dir} is a file, but a ${what} is needed here${fix ? `; ${fix}` : ''}`, dir);
  }
}

export function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

/** Returns the bytes, gunzipped when they start with the gzip magic; a broken stream names the file. */
export function maybeGunzip(buf: Buffer, file: string): Buffer {
  if (!isGzip(buf)) return buf;
  try {
    return zlib.gunzipSync(buf);
  } catch (e) {
    throw new DatasetError(
      `${file} is a truncated or corrupt gzip file (${(e as Error).message}); download or copy it again`,
      file,
    );
  }
}
