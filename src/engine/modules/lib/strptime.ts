// Python's time.strptime for the directives file's *_time_format uses, to a local date and time the
// host turns into an epoch (`date -d`), as Python's time.mktime does there. Errors read as Python's.

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const FULL = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];

const repr = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** "YYYY-mm-dd HH:MM:SS" of `text` read with `format`; throws Python's ValueError text. */
export function strptime(text: string, format: string): string {
  let re = '';
  const fields: string[] = [];
  for (let i = 0; i < format.length; i++) {
    const c = format[i];
    if (c !== '%') {
      re += /\s/.test(c) ? '\\s+' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      continue;
    }
    const d = format[++i];
    const group: Record<string, string> = {
      Y: '(\\d\\d\\d\\d)',
      y: '(\\d\\d)',
      m: '(1[0-2]|0[1-9]|[1-9])',
      d: '(3[01]|[12]\\d|0[1-9]|[1-9]| [1-9])',
      H: '(2[0-3]|[0-1]\\d|\\d)',
      I: '(1[0-2]|0[1-9]|[1-9])',
      M: '([0-5]\\d|\\d)',
      S: '(6[0-1]|[0-5]\\d|\\d)',
      p: '(am|pm)',
      b: `(${MONTHS.join('|')})`,
      h: `(${MONTHS.join('|')})`,
      B: `(${FULL.join('|')})`,
    };
    if (d === '%') re += '%';
    else if (d !== undefined && group[d]) {
      re += group[d];
      fields.push(d);
    } else throw new Error(`'${d ?? ''}' is a bad directive in format ${repr(format)}`);
  }
  const m = new RegExp(`^${re}`, 'i').exec(text);
  if (!m) throw new Error(`time data ${repr(text)} does not match format ${repr(format)}`);
  if (m[0].length < text.length) throw new Error(`unconverted data remains: ${text.slice(m[0].length)}`);
  let [Y, mo, d, H, M, S] = [1900, 1, 1, 0, 0, 0];
  let pm: boolean | undefined;
  let h12: number | undefined;
  fields.forEach((f, i) => {
    const v = m[i + 1].trim();
    const n = Number(v);
    if (f === 'Y') Y = n;
    else if (f === 'y') Y = n < 69 ? 2000 + n : 1900 + n;
    else if (f === 'm') mo = n;
    else if (f === 'd') d = n;
    else if (f === 'H') H = n;
    else if (f === 'I') h12 = n;
    else if (f === 'M') M = n;
    else if (f === 'S') S = n;
    else if (f === 'p') pm = v.toLowerCase() === 'pm';
    else if (f === 'b' || f === 'h') mo = MONTHS.indexOf(v.toLowerCase()) + 1;
    else if (f === 'B') mo = FULL.indexOf(v.toLowerCase()) + 1;
  });
  if (h12 !== undefined) H = (h12 % 12) + (pm ? 12 : 0);
  const days = new Date(Date.UTC(Y, mo, 0)).getUTCDate();
  if (d > days) throw new Error('day is out of range for month');
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${String(Y).padStart(4, '0')}-${p2(mo)}-${p2(d)} ${p2(H)}:${p2(M)}:${p2(S)}`;
}
