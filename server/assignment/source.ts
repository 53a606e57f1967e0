/**
 * Finds the blanks in a student module's text without compiling it (cheap enough for every keystroke):
 * each blank's function declaration line, its body's extent, and whether the body still calls
 * `notImplemented('<id>', '<hint>')`. Lines are 1-based.
 */
import { BLANKS } from './blanks';

export interface BlankLocation {
  id: string;
  /** The line of `function <id>` (1-based). */
  line: number;
  /** The last line of the function (1-based): the next top-level declaration's line - 1, or the file's end. */
  endLine: number;
  /** Whether the body still calls notImplemented(...). */
  notImplemented: boolean;
  /** The notImplemented call's position, where there is one (1-based line, 0-based column). */
  markerLine?: number;
  markerColumn?: number;
  markerLength?: number;
  /** The hint from the file's notImplemented call, else undefined. */
  hint?: string;
}

const DECL = /^(?:export\s+)?(?:async\s+)?function\s*\*?\s*([A-Za-z_$][\w$]*)/;
const TOP = /^(?:export\s+|function\b|const\b|let\b|var\b|class\b|interface\b|type\b|\/\/ -{5})/;

/** Reads a JS string literal ('...', "..." or `...`) starting at text[i]; returns its value and end. */
function readString(text: string, i: number): { value: string; end: number } | undefined {
  const q = text[i];
  if (q !== "'" && q !== '"' && q !== '`') return undefined;
  let out = '';
  for (let j = i + 1; j < text.length; j++) {
    const c = text[j]!;
    if (c === '\\') {
      out += text[j + 1] ?? '';
      j++;
    } else if (c === q) {
      return { value: out, end: j + 1 };
    } else {
      out += c;
    }
  }
  return undefined;
}

export function findBlanks(text: string, ids: readonly string[] = BLANKS.map((b) => b.id)): BlankLocation[] {
  const lines = text.split(/\r?\n/);
  const decls: { id: string; line: number }[] = [];
  const tops: number[] = [];
  lines.forEach((l, i) => {
    const m = DECL.exec(l);
    if (m) decls.push({ id: m[1]!, line: i + 1 });
    if (TOP.test(l) || l.startsWith('/**')) tops.push(i + 1);
  });
  const out: BlankLocation[] = [];
  for (const id of ids) {
    const d = decls.find((x) => x.id === id);
    if (!d) continue;
    const next = tops.find((t) => t > d.line);
    const endLine = next ? next - 1 : lines.length;
    const loc: BlankLocation = { id, line: d.line, endLine, notImplemented: false };
    for (let ln = d.line; ln <= endLine; ln++) {
      const l = lines[ln - 1]!;
      const col = l.indexOf('notImplemented(');
      if (col < 0 || /^\s*(\/\/|\*)/.test(l)) continue;
      loc.notImplemented = true;
      loc.markerLine = ln;
      loc.markerColumn = col;
      // The call's extent, and its second argument (the hint), on this line or the next few.
      const rest = lines.slice(ln - 1, Math.min(endLine, ln + 3)).join('\n');
      let j = col + 'notImplemented('.length;
      const skip = () => { while (j < rest.length && /\s/.test(rest[j]!)) j++; };
      skip();
      const first = readString(rest, j);
      if (first) {
        j = first.end;
        skip();
        if (rest[j] === ',') {
          j++;
          skip();
          const hint = readString(rest, j);
          if (hint) {
            loc.hint = hint.value;
            j = hint.end;
          }
        }
      }
      const close = rest.indexOf(')', j);
      const firstLineEnd = l.length;
      loc.markerLength = Math.max(1, Math.min(close >= 0 ? close + 1 : firstLineEnd, firstLineEnd) - col);
      break;
    }
    out.push(loc);
  }
  return out;
}

/** The blank whose function contains `line` (1-based), if any. */
export function blankAtLine(locs: BlankLocation[], line: number): BlankLocation | undefined {
  return locs.find((l) => line >= l.line && line <= l.endLine);
}

/** The student's line (1-based) from an error's stack, if a frame is in `file`. */
export function lineFromStack(err: unknown, file: string): number | undefined {
  const stack = (err as { stack?: unknown })?.stack;
  if (typeof stack !== 'string') return undefined;
  for (const l of stack.split('\n')) {
    const i = l.indexOf(file + ':');
    if (i >= 0) {
      const m = /^:(\d+):\d+/.exec(l.slice(i + file.length));
      if (m) return Number(m[1]);
    }
  }
  return undefined;
}
