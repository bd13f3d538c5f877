// Load YAML while keeping where every value came from, so errors can name file:line:column.
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isMap, isSeq, isPair, isScalar, visit, type Document, type Node } from 'yaml';
import { InputError, type SourcePos } from '../util/errors.js';
import { PYYAML } from './pyyaml.js';

export type YamlPath = ReadonlyArray<string | number>;

export class YamlSource {
  constructor(
    readonly file: string,
    readonly doc: Document,
    private readonly lines: LineCounter,
    readonly text = '',
  ) {}

  /** Plain JS value of the whole document. */
  toJS(): unknown {
    return this.doc.toJS({ maxAliasCount: 1000 });
  }

  /**
   * Position of the value at `path`; with `key: true`, of the map key that holds it
   * (better for "unknown key" messages). Falls back to the deepest node that exists.
   */
  pos(path: YamlPath, opts: { key?: boolean } = {}): SourcePos {
    let node: unknown = this.doc.contents;
    let best = node as Node | null;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && keyText(p.key) === String(seg));
        if (!pair) break;
        if (last && opts.key && pair.key) {
          best = pair.key as Node;
          break;
        }
        node = pair.value;
      } else if (isSeq(node)) {
        node = node.items[Number(seg)];
      } else {
        break;
      }
      if (node && (node as Node).range) best = node as Node;
      else break;
    }
    const offset = best?.range?.[0] ?? 0;
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, col };
  }

  /** Position of line/col (1-based) in the text of the string at `path`, where that maps back to the file. */
  posInString(path: YamlPath, line: number, col: number): SourcePos {
    const start = this.pos(path);
    const node = this.doc.getIn(path as (string | number)[], true);
    if (!isScalar(node) || !node.range) return start;
    const src = this.text.slice(node.range[0], node.range[1]);
    if (node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED') {
      // The text starts on the line after the header ("|", ">-", ...), at the block's indentation.
      const body = src.slice(src.indexOf('\n') + 1);
      const indent = /^ */.exec(body)![0].length;
      return { file: start.file, line: start.line + line, col: indent + col };
    }
    if (src.includes('\n')) return start; // a multi-line flow scalar is folded: no exact mapping
    const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE' ? 1 : 0;
    return line === 1 ? { file: start.file, line: start.line, col: start.col + quoted + col - 1 } : start;
  }
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

/** Parse YAML text; a syntax error becomes an InputError at its position. */
export function parseYaml(text: string, file: string): YamlSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { ...PYYAML, lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    let offset = err.pos?.[0] ?? 0;
    let first = err.message.split('\n')[0];
    // A quote never closed is reported where the text runs out (often past the last line): point at
    // the opening quote instead.
    const opened = err.code === 'MISSING_CHAR' ? unclosedQuoteAt(doc, offset) : undefined;
    if (opened !== undefined) {
      offset = opened;
      first += ' (the string starting here is never closed)';
    }
    const { line, col } = lines.linePos(offset);
    throw new InputError(
      `YAML syntax error: ${first}`,
      { file, line, col },
      'fix the YAML at that line (indentation, quoting, a missing ":")',
    );
  }
  return new YamlSource(file, doc, lines, text);
}

/** Start of the quoted scalar that runs up to `end` (where the parser gave up looking for its closing quote). */
function unclosedQuoteAt(doc: Document, end: number): number | undefined {
  let start: number | undefined;
  visit(doc, {
    Scalar(_key, node) {
      if ((node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') && node.range && node.range[1] === end)
        start = node.range[0];
    },
  });
  return start;
}

export function loadYamlFile(file: string): YamlSource {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(
      `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      undefined,
      'check the path',
      1,
    );
  }
  return parseYaml(text, file);
}
