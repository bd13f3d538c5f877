// Python's datetime.date and datetime.datetime, as PyYAML makes them of a plain `2001-12-14` or
// `2001-12-14 21:59:43.10 -5` (its implicit timestamp), and as Ansible then shows them: str() in
// templates (`2001-12-14 21:59:43.100000-05:00`), isoformat() in JSON, repr() inside a printed list.

// PyYAML's implicit resolver for timestamps (resolver.py) and its constructor's pattern (constructor.py).
export const TIMESTAMP =
  /^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9]{2})?))?)$/;
const PARTS =
  /^([0-9]{4})-([0-9][0-9]?)-([0-9][0-9]?)(?:(?:[Tt]|[ \t]+)([0-9][0-9]?):([0-9]{2}):([0-9]{2})(?:\.([0-9]*))?(?:[ \t]*(Z|([-+])([0-9][0-9]?)(?::([0-9]{2}))?))?)?$/;

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export class PyDate {
  constructor(
    readonly kind: 'date' | 'datetime',
    readonly year: number,
    readonly month: number,
    readonly day: number,
    readonly hour = 0,
    readonly minute = 0,
    readonly second = 0,
    readonly microsecond = 0,
    /** Minutes east of UTC; null for a naive datetime (and a date). */
    readonly offset: number | null = null,
  ) {}

  /** Python's isoformat() (`sep` ' ' is str()). */
  isoformat(sep = 'T'): string {
    const date = `${pad(this.year, 4)}-${pad(this.month)}-${pad(this.day)}`;
    if (this.kind === 'date') return date;
    let out = `${date}${sep}${pad(this.hour)}:${pad(this.minute)}:${pad(this.second)}`;
    if (this.microsecond) out += `.${pad(this.microsecond, 6)}`;
    if (this.offset !== null) {
      const m = Math.abs(this.offset);
      out += `${this.offset < 0 ? '-' : '+'}${pad(Math.floor(m / 60))}:${pad(m % 60)}`;
    }
    return out;
  }

  toString(): string {
    return this.isoformat(' ');
  }

  /** What Ansible's JSON encoder writes. */
  toJSON(): string {
    return this.isoformat();
  }

  repr(): string {
    if (this.kind === 'date') return `datetime.date(${this.year}, ${this.month}, ${this.day})`;
    const fields = [this.year, this.month, this.day, this.hour, this.minute, this.second, this.microsecond];
    for (let i = 0; i < 2 && fields[fields.length - 1] === 0; i++) fields.pop();
    let tz = '';
    if (this.offset === 0) tz = ', tzinfo=datetime.timezone.utc';
    else if (this.offset !== null) {
      // timedelta's repr: days (negative for a negative offset) and non-negative seconds.
      const secs = this.offset * 60;
      const delta = secs < 0 ? `days=-1, seconds=${86400 + secs}` : `seconds=${secs}`;
      tz = `, tzinfo=datetime.timezone(datetime.timedelta(${delta}))`;
    }
    return `datetime.datetime(${fields.join(', ')}${tz})`;
  }

  /** Milliseconds to order by: UTC for an aware datetime, the wall clock for the others. */
  time(): number {
    const ms = Date.UTC(this.year, this.month - 1, this.day, this.hour, this.minute, this.second);
    return ms + this.microsecond / 1000 - (this.offset ?? 0) * 60_000;
  }

  /** Whether Python compares the two with `<` (same kind; datetimes both naive or both aware). */
  comparable(other: PyDate): boolean {
    return this.kind === other.kind && (this.offset === null) === (other.offset === null);
  }

  equals(other: PyDate): boolean {
    return this.comparable(other) && this.time() === other.time();
  }
}

/** The date or datetime PyYAML makes of a plain scalar, or undefined (not a timestamp, or no such day). */
export function parseTimestamp(text: string): PyDate | undefined {
  if (!TIMESTAMP.test(text)) return undefined;
  const m = PARTS.exec(text);
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const probe = new Date(Date.UTC(year, month - 1, day));
  if (month < 1 || month > 12 || probe.getUTCDate() !== day || probe.getUTCMonth() !== month - 1) return undefined;
  if (m[4] === undefined) return new PyDate('date', year, month, day);
  const [hour, minute, second] = [Number(m[4]), Number(m[5]), Number(m[6])];
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const micro = m[7] ? Number(m[7].slice(0, 6).padEnd(6, '0')) : 0;
  let offset: number | null = null;
  if (m[9]) offset = (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11] ?? 0));
  else if (m[8]) offset = 0;
  return new PyDate('datetime', year, month, day, hour, minute, second, micro, offset);
}
