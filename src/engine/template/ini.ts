// INI files read as Python's configparser reads them with its defaults (what the `ini` lookup uses): `=` or
// `:` between key and value, whole-line `#`/`;` comments, indented lines continuing a value, keys
// lower-cased unless case-sensitive, a DEFAULT section every section inherits, `%(name)s` interpolation.
export class IniError extends Error {}

export type IniSections = Map<string, Map<string, string | null>>;

const SECTION_RE = /^\[(.+)\]/;
const OPTION_RE = /^(.*?)\s*[=:]\s*(.*)$/;

/** The sections of `text`; throws IniError where configparser raises. */
export function parseIni(text: string, opts: { caseSensitive?: boolean; allowNoValue?: boolean } = {}): IniSections {
  const sections: IniSections = new Map([['DEFAULT', new Map()]]);
  let current: Map<string, string | null> | undefined;
  let last: { key: string; indent: number; lines: string[] } | undefined;
  const close = () => {
    if (last && current) current.set(last.key, last.lines.join('\n').trimEnd());
    last = undefined;
  };
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed.startsWith('#') || trimmed.startsWith(';')) return;
    const indent = line.length - line.trimStart().length;
    if (!trimmed) {
      if (last) last.lines.push('');
      return;
    }
    if (last && indent > last.indent) {
      last.lines.push(trimmed);
      return;
    }
    close();
    const header = SECTION_RE.exec(trimmed);
    if (header) {
      if (sections.has(header[1]) && header[1] !== 'DEFAULT')
        throw new IniError(`While reading from '<???>' [line ${i + 1}]: section '${header[1]}' already exists`);
      current = sections.get(header[1]) ?? new Map();
      sections.set(header[1], current);
      return;
    }
    if (!current) throw new IniError(`File contains no section headers. line: ${i + 1} '${line}'`);
    const option = OPTION_RE.exec(trimmed);
    const key = (option ? option[1] : trimmed).trimEnd();
    const name = opts.caseSensitive ? key : key.toLowerCase();
    if (current.has(name))
      throw new IniError(`While reading from '<???>' [line ${i + 1}]: option '${name}' in section already exists`);
    if (!option) {
      if (!opts.allowNoValue) throw new IniError(`Source contains parsing errors: [line ${i + 1}]: '${line}'`);
      current.set(name, null);
      return;
    }
    current.set(name, '');
    last = { key: name, indent, lines: [option[2]] };
  });
  close();
  return sections;
}

/** `section`'s options (its own over DEFAULT's), values interpolated; IniError for a missing section. */
export function iniItems(sections: IniSections, section: string): [string, string | null][] {
  const own = sections.get(section);
  if (!own || section === 'DEFAULT') throw new IniError(`No section: '${section}'`);
  const merged = new Map([...sections.get('DEFAULT')!, ...own]);
  return [...merged].map(([k, v]) => [k, v === null ? null : interpolate(v, merged, 1)]);
}

/** BasicInterpolation: `%(name)s` is another option's value, `%%` a percent sign. */
function interpolate(value: string, options: Map<string, string | null>, depth: number): string {
  if (depth > 10) throw new IniError(`Recursion limit exceeded in value substitution: '${value}'`);
  return value.replace(/%(%|\(([^)]*)\)s|)/g, (all, _m: string, name?: string) => {
    if (all === '%%') return '%';
    if (name === undefined)
      throw new IniError(`'%' must be followed by '%' or '(', found: '${value.slice(value.indexOf(all))}'`);
    const ref = options.get(name.toLowerCase());
    if (ref === undefined || ref === null) throw new IniError(`Bad value substitution: option '${name}'`);
    return interpolate(ref, options, depth + 1);
  });
}
