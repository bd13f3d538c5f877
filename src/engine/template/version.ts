// The `version` test (`version_compare`): ansible-core's loose (the default), strict, semver and pep440
// version types, compared as their documentation describes.

export class VersionError extends Error {}

type Cmp = -1 | 0 | 1;
const sgn = (n: number): Cmp => (n < 0 ? -1 : n > 0 ? 1 : 0);

function cmpList(a: (number | string)[], b: (number | string)[]): Cmp {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const [x, y] = [a[i], b[i]];
    if (typeof x !== typeof y)
      throw new VersionError(
        `'<' not supported between instances of '${typeof x === 'number' ? 'int' : 'str'}' and '${typeof y === 'number' ? 'int' : 'str'}'`,
      );
    if (x !== y) return x < y ? -1 : 1;
  }
  return sgn(a.length - b.length);
}

/** LooseVersion: numbers and letter runs, compared in turn. */
function loose(v: string): (number | string)[] {
  return v
    .split(/(\d+|[a-z]+|\.)/i)
    .filter((x) => x && x !== '.')
    .map((x) => (/^\d+$/.test(x) ? Number(x) : x));
}

/** StrictVersion: N.N[.N][(a|b)N]. */
function strict(v: string): [number[], [string, number] | undefined] {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?(?:([ab])(\d+))?$/.exec(v);
  if (!m) throw new VersionError(`invalid version number '${v}'`);
  return [[Number(m[1]), Number(m[2]), Number(m[3] ?? 0)], m[4] ? [m[4], Number(m[5])] : undefined];
}

function cmpStrict(a: string, b: string): Cmp {
  const [x, px] = strict(a);
  const [y, py] = strict(b);
  const c = cmpList(x, y);
  if (c) return c;
  if (!px && !py) return 0;
  if (!px) return 1;
  if (!py) return -1;
  return cmpList(px, py);
}

function semver(v: string): { core: number[]; pre: (number | string)[] | undefined } {
  const m = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(v);
  if (!m) throw new VersionError(`invalid semantic version '${v}'`);
  const pre = m[4]?.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  return { core: [Number(m[1]), Number(m[2]), Number(m[3])], pre };
}

function cmpSemver(a: string, b: string): Cmp {
  const x = semver(a);
  const y = semver(b);
  const c = cmpList(x.core, y.core);
  if (c) return c;
  if (!x.pre && !y.pre) return 0;
  if (!x.pre) return 1;
  if (!y.pre) return -1;
  for (let i = 0; i < Math.min(x.pre.length, y.pre.length); i++) {
    const [p, q] = [x.pre[i], y.pre[i]];
    if (p === q) continue;
    if (typeof p === 'number' && typeof q === 'string') return -1;
    if (typeof p === 'string' && typeof q === 'number') return 1;
    return p < q ? -1 : 1;
  }
  return sgn(x.pre.length - y.pre.length);
}

/** PEP 440: release, then a/b/rc, post and dev releases (epochs and local versions too). */
function pep440(v: string): number[] {
  const m =
    /^\s*v?(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(a|alpha|b|beta|c|rc|pre|preview)[-_.]?(\d*))?(?:-(\d+)|[-_.]?(?:post|rev|r)[-_.]?(\d*))?(?:[-_.]?dev[-_.]?(\d*))?(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?\s*$/i.exec(
      v,
    );
  if (!m) throw new VersionError(`Invalid version: '${v}'`);
  const release = m[2].split('.').map(Number);
  while (release.length > 1 && release[release.length - 1] === 0) release.pop();
  const preKind = m[3]?.toLowerCase();
  const pre = preKind ? [{ a: 0, alpha: 0, b: 1, beta: 1 }[preKind] ?? 2, Number(m[4] || 0)] : undefined;
  const post = m[5] !== undefined || m[6] !== undefined ? Number(m[5] ?? (m[6] || 0)) : undefined;
  const dev = m[7] !== undefined ? Number(m[7] || 0) : undefined;
  // Sort key: a dev release of the final comes before its pre-releases; post after.
  const preKey = pre ? pre : dev !== undefined && post === undefined ? [-1, 0] : [3, 0];
  return [
    Number(m[1] ?? 0),
    ...release,
    ...Array(10 - release.length).fill(0),
    ...preKey,
    post === undefined ? -1 : post,
    dev === undefined ? Infinity : dev,
  ];
}

export function versionCompare(value: string, version: string, op: string, type: string): boolean {
  const ops: Record<string, string> = {
    '==': 'eq',
    '=': 'eq',
    eq: 'eq',
    '<': 'lt',
    lt: 'lt',
    '<=': 'le',
    le: 'le',
    '>': 'gt',
    gt: 'gt',
    '>=': 'ge',
    ge: 'ge',
    '!=': 'ne',
    '<>': 'ne',
    ne: 'ne',
  };
  const o = ops[op];
  if (!o)
    throw new VersionError(
      `Invalid operator type (${op}). Must be one of ${Object.keys(ops)
        .map((k) => `'${k}'`)
        .join(', ')}`,
    );
  let c: Cmp;
  switch (type) {
    case 'loose':
      c = cmpList(loose(value), loose(version));
      break;
    case 'strict':
      c = cmpStrict(value, version);
      break;
    case 'semver':
    case 'semantic':
      c = cmpSemver(value, version);
      break;
    case 'pep440':
      c = cmpList(pep440(value), pep440(version));
      break;
    default:
      throw new VersionError(
        `Invalid version type (${type}). Must be one of 'loose', 'strict', 'semver', 'semantic', 'pep440'`,
      );
  }
  return { eq: c === 0, ne: c !== 0, lt: c < 0, le: c <= 0, gt: c > 0, ge: c >= 0 }[o]!;
}
