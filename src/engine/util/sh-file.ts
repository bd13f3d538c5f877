// Shell that runs on hosts lives in .sh files beside the code that sends it (src/**/NAME.sh, checked by
// shellcheck in `npm run lint`). The build copies them to dist/src/ with the same paths
// (scripts/copy-sh.mjs); shFile reads them from there, wherever the code runs from (dist/src/, or the
// bundle: packageRoot()), once each.
//
// A script travels on every run inside `sh -c` (its size counts against the command line, and sudo logs
// it), so what hosts receive is the file without what they need not: comment-only lines (a shebang and
// shellcheck directives too) and blank lines, and the last newline. Only lines where sh itself would see
// a comment or nothing: never a line inside a quoted string, a here-document or after a
// backslash-newline (stripShell follows the shell's quoting to tell; test/unit/sh-file.test.ts checks
// with bash that every script parses the same stripped). Indentation stays.
//
// Two things are put in when a file is read, and nothing else:
//   - a line `. ./OTHER.sh` (sourcing a file beside it) is replaced by that file's text as sent, so
//     shared functions live in one file and shellcheck (-x) follows them;
//   - `@NAME@` is replaced by values.NAME, for constants the code shares with the script that must
//     reach the host written out (a command run without `sh -c` has no positional parameters). A value
//     must be a plain shell word (no quoting needed), every @NAME@ must get one and every value must be
//     used. Anything that varies from run to run is a positional parameter instead (shScript).
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { packageRoot } from './package.js';

const loaded = new Map<string, string>();

/** A plain word: what shq leaves unquoted. */
const WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;
const PLACEHOLDER = /@([A-Z][A-Z0-9_]*)@/g;
const INCLUDE = /^\. \.\/((?:[A-Za-z0-9_-]+\/)*[A-Za-z0-9_.-]+\.sh)$/;

/**
 * The script at `path` (relative to src/, e.g. 'relay/modules/relay_tunnel/read.sh') as hosts get it:
 * without comment-only and blank lines, sourced siblings put in, `@NAME@` replaced by `values`.
 */
export function shFile(path: string, values: Readonly<Record<string, string | number>> = {}): string {
  const text = load(path, []);
  const given = new Set(Object.keys(values));
  const out = text.replace(PLACEHOLDER, (_, name: string) => {
    if (!(name in values)) throw new Error(`${path}: no value for @${name}@`);
    const v = String(values[name]);
    if (!WORD.test(v)) throw new Error(`${path}: the value of @${name}@ is not a plain shell word: ${v}`);
    given.delete(name);
    return v;
  });
  if (given.size) throw new Error(`${path}: no @${[...given].join('@, @')}@ in the script`);
  return out;
}

function load(path: string, including: string[]): string {
  const cached = loaded.get(path);
  if (cached !== undefined) return cached;
  if (including.includes(path)) throw new Error(`${[...including, path].join(' sources ')}: a cycle`);
  const file = join(packageRoot(), 'dist', 'src', path);
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${file} (the build copies src/**/*.sh there): ${(e as Error).message}`);
  }
  const text = stripShell(raw, path, (name) => load(posix.join(posix.dirname(path), name), [...including, path]));
  loaded.set(path, text);
  return text;
}

type Frame =
  | { kind: 'code'; parens: number; cases: number } // the script itself, or a $( ); parens: its open ( )
  | { kind: 'squote' | 'dquote' | 'param' | 'backquote' }
  | { kind: 'arith'; parens: number };

/**
 * `text` without its comment-only and blank lines, and without trailing newlines. A line goes only when
 * it starts in plain code: not in a quoted string, `${...}`, `$((...))`, backquotes or a here-document,
 * and not after a line that ends in a backslash. With `include`, a line `. ./NAME.sh` in plain code is
 * replaced by include(NAME.sh). Throws where the quoting does not close (it would not be plain sh).
 */
export function stripShell(text: string, name = 'script', include?: (file: string) => string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  const stack: Frame[] = [{ kind: 'code', parens: 0, cases: 0 }];
  const heredocs: { end: string; tabs: boolean }[] = [];
  let body: { end: string; tabs: boolean } | undefined;
  let continued = false;
  const fail = (at: number, why: string): never => {
    throw new Error(`${name}:${at + 1}: ${why}: cannot tell which lines are comments`);
  };

  let before = '\n'; // the character before the line: a newline, or the one before a backslash-newline
  for (const [n, line] of lines.entries()) {
    if (body) {
      // A here-document's line, kept as it is; its end marker ends it.
      out.push(line);
      if ((body.tabs ? line.replace(/^\t+/, '') : line) === body.end) body = heredocs.shift();
      continue;
    }
    const plain = !continued && stack.every((f) => f.kind === 'code');
    if (plain && /^\s*(#.*)?$/.test(line)) continue;
    const sourced = plain && include ? INCLUDE.exec(line) : null;
    if (sourced) {
      out.push(include!(sourced[1]));
      continue;
    }
    out.push(line);
    if (!continued) before = '\n';
    continued = false;

    let word = '';
    for (let i = 0; i < line.length; i++) {
      const top = stack[stack.length - 1];
      const c = line[i];
      const next = line[i + 1];
      const prev = i ? line[i - 1] : before;
      if (top.kind === 'squote') {
        if (c === "'") stack.pop();
        continue;
      }
      // A keyword ends with the word: `case` and `esac` tell a pattern's ) from the end of a $( ).
      if (!/[A-Za-z0-9_]/.test(c) && word) {
        if (top.kind === 'code' && word === 'case') top.cases++;
        else if (top.kind === 'code' && word === 'esac') top.cases = Math.max(0, top.cases - 1);
        word = '';
      }
      if (c === '\\') {
        if (i === line.length - 1) {
          continued = true;
          before = i ? line[i - 1] : before;
        }
        i++;
      } else if (c === '$' && next === '(' && line[i + 2] === '(') {
        stack.push({ kind: 'arith', parens: 0 });
        i += 2;
      } else if (c === '$' && next === '(') {
        stack.push({ kind: 'code', parens: 0, cases: 0 });
        i++;
      } else if (c === '$' && next === '{') {
        stack.push({ kind: 'param' });
        i++;
      } else if (c === '`') {
        if (top.kind === 'backquote') stack.pop();
        else stack.push({ kind: 'backquote' });
      } else if (top.kind === 'dquote') {
        if (c === '"') stack.pop();
      } else if (top.kind === 'arith') {
        if (c === '(') top.parens++;
        else if (c === ')' && top.parens > 0) top.parens--;
        else if (c === ')' && next === ')') {
          stack.pop();
          i++;
        } else if (c === ')') fail(n, 'a $(( without its ))');
      } else if (c === "'") {
        stack.push({ kind: 'squote' });
      } else if (c === '"') {
        stack.push({ kind: 'dquote' });
      } else if (top.kind === 'param') {
        if (c === '}') stack.pop();
      } else if (c === '#' && /[\s;&|()<>]/.test(prev)) {
        break; // a comment, to the end of the line
      } else if (/[A-Za-z0-9_]/.test(c)) {
        word += c;
      } else if (top.kind === 'code' && c === '(') {
        top.parens++;
      } else if (top.kind === 'code' && c === ')') {
        // A subshell's end, a case pattern's end (in the script itself, nothing to end), or a $( )'s.
        if (top.parens > 0) top.parens--;
        else if (top.cases === 0 && stack.length > 1) stack.pop();
      } else if (c === '<' && next === '<' && line[i + 2] !== '<') {
        // A here-document: its body starts on the next line (after the line that ends this command).
        let j = i + 2;
        const tabs = line[j] === '-';
        if (tabs) j++;
        while (line[j] === ' ' || line[j] === '\t') j++;
        const m = /^(?:'[^']*'|"[^"]*"|\\.|[^\s;&|()<>])+/.exec(line.slice(j));
        if (!m) fail(n, 'a here-document without an end marker');
        heredocs.push({ end: m![0].replace(/\\(.)|['"]/g, '$1'), tabs });
        i = j + m![0].length - 1;
      }
    }
    if (word && stack[stack.length - 1].kind === 'code') {
      const top = stack[stack.length - 1] as { cases: number };
      if (word === 'case') top.cases++;
      else if (word === 'esac') top.cases = Math.max(0, top.cases - 1);
    }
    if (!continued && heredocs.length && stack.every((f) => f.kind === 'code')) body = heredocs.shift();
  }
  if (body || heredocs.length) fail(lines.length - 1, 'a here-document without its end');
  if (stack.length !== 1) fail(lines.length - 1, `an unclosed ${stack[stack.length - 1].kind}`);
  if (continued) fail(lines.length - 1, 'a backslash at the very end');
  while (out.length && out[out.length - 1] === '') out.pop();
  return out.join('\n');
}
