// copy with remote_src and a directory src, as Ansible's copy module does it on the host: the
// directory itself (src without a trailing "/") or what is in it (with one), into dest. Where the copy
// goes already has a tree, only what Python's filecmp.dircmp calls different or missing there is
// copied (files by content, new entries as they are; what is only in the destination stays);
// owner and group go over the whole tree, mode on dest itself. Planned from one read (remote-dir.sh).
import { posix } from 'node:path';
import { shFile } from '../../util/sh-file.js';
import { shScript } from '../../util/quote.js';
import type { RunResult } from '../../connection/types.js';
import type { Plan, Read, Step } from '../types.js';
import { modeFor, modeText, parseModeArg } from '../lib/modes.js';
import { toBool } from '../../util/bool.js';

const SCRIPT = () => shFile('engine/modules/copy/remote-dir.sh');

/** filecmp.dircmp's default ignore list: such names are never compared nor copied. */
const IGNORED = new Set(['RCS', 'CVS', 'tags', '.git', '.hg', '.bzr', '_darcs', '__pycache__']);

export interface RemoteDirArgs {
  src?: string;
  dest: string;
  owner?: string;
  group?: string;
  mode?: string | number;
  local_follow?: unknown;
}

interface Ent {
  type: string; // find's %y
  ttype: string; // %Y
  mode: number;
  uid: number;
  gid: number;
  link: string;
  sum?: string;
}

/** Where the copy goes: dest itself (src ends in "/"), or dest/<src's name>. */
export const remoteDirTarget = (src: string, dest: string): string =>
  src.endsWith('/') ? dest : posix.join(dest, posix.basename(src));

/** The one read of a remote directory copy. */
export const remoteDirRead = (src: string, dest: string, owner?: string, group?: string): Read => ({
  command: shScript(SCRIPT(), [src, dest, remoteDirTarget(src, dest), owner ?? '', group ?? '']),
});

interface Own {
  mode: number;
  uid: number;
  gid: number;
  owner?: string;
  group?: string;
  size?: number;
}

function parse(stdout: string) {
  const out = {
    dest: 'absent',
    me: { uid: -1, gid: -1, umask: 0o022 },
    ids: [] as string[],
    own: [] as (Own | null)[],
    S: new Map<string, Ent>(),
    T: new Map<string, Ent>(),
  };
  for (const rec of stdout.split('\0')) {
    if (!rec) continue;
    const [tag, ...f] = rec.split('\t');
    if (tag === 'dest') out.dest = f[0];
    else if (tag === 'me') out.me = { uid: +f[0], gid: +f[1], umask: parseInt(f[2], 8) };
    else if (tag === 'ids') out.ids = f;
    else if (tag === 'own')
      out.own.push(
        f[0] === 'absent'
          ? null
          : { mode: parseInt(f[0], 8), uid: +f[1], gid: +f[2], owner: f[3], group: f[4], size: +f[5] },
      );
    else if (tag === 'S' || tag === 'T') {
      const [type, ttype, mode, uid, gid, link, ...p] = f;
      out[tag].set(p.join('\t'), { type, ttype, mode: parseInt(mode, 8), uid: +uid, gid: +gid, link });
    } else if (tag === 'sumS' || tag === 'sumT') {
      const m = /^([0-9a-f]{40}) {2}\.\/([\s\S]*)$/.exec(f.join('\t'));
      const e = m && out[tag === 'sumS' ? 'S' : 'T'].get(m[2]);
      if (e) e.sum = m[1];
    }
  }
  return out;
}

/** The plan of a remote directory copy, from remoteDirRead's result. */
export function planRemoteDir(args: RemoteDirArgs, r: RunResult, check: boolean): Plan {
  if (r.code !== 0) throw new Error(`cannot read ${args.src}: ${r.stderr.trim() || `exit ${r.code}`}`);
  const h = parse(r.stdout);
  const idOf = (name: string | undefined, resolved: string | undefined) =>
    name === undefined ? undefined : /^\d+$/.test(name) ? +name : resolved ? +resolved : NaN;
  const ids = { uid: idOf(args.owner, h.ids[0]), gid: idOf(args.group, h.ids[1]) };
  if (Number.isNaN(ids.uid))
    return { changed: false, steps: [], failed: `chown failed: failed to look up user ${args.owner}` };
  if (Number.isNaN(ids.gid))
    return { changed: false, steps: [], failed: `chgrp failed: failed to look up group ${args.group}` };
  const [srcOwn, destOwn, targetOwn] = h.own;
  const src = args.src!;
  const dest = args.dest;
  const follow = args.local_follow === undefined ? undefined : toBool(args.local_follow, false);
  const slash = src.endsWith('/');
  const target = remoteDirTarget(src, dest);
  const destIsDir = h.dest === 'd';
  if (h.dest === 'f') return { changed: false, steps: [], failed: `${dest} exists and is not a directory` };
  const steps: Step[] = [];
  let changed = false;
  const sh = (script: string, a: string[], describe: string) => steps.push({ describe, command: shScript(script, a) });
  const srcPath = (rel: string) => posix.join(src, rel);
  const dstPath = (rel: string) => posix.join(target, rel);
  // shutil.copytree: a directory copied whole, modes and times kept, links as links (unless local_follow).
  const copytree = (from: string, to: string) =>
    sh(
      `cp -R ${follow ? '-L ' : ''}--preserve=mode,timestamps -- "$1" "$2"`,
      [from.replace(/\/+$/, ''), to],
      `copy ${from} to ${to}`,
    );
  const kids = (m: Map<string, Ent>, rel: string) =>
    [...m.keys()].filter((k) =>
      rel ? k.startsWith(`${rel}/`) && !k.slice(rel.length + 1).includes('/') : !k.includes('/'),
    );

  /** Ansible's copy_diff_files, copy_left_only and copy_common_dirs, from one directory level down. */
  const sync = (rel: string) => {
    for (const k of kids(h.S, rel).sort()) {
      if (IGNORED.has(posix.basename(k))) continue;
      const s = h.S.get(k)!;
      const t = h.T.get(k);
      const from = srcPath(k);
      const to = dstPath(k);
      if (!t) {
        changed = true;
        const link = s.type === 'l';
        if (!link && s.type === 'f') sh('cp --preserve=mode -- "$1" "$2"', [from, to], `copy ${from} to ${to}`);
        else if (!link && s.type === 'd') copytree(from, to);
        else if (link && (s.ttype === 'd' || s.ttype === 'f')) {
          // Ansible's local_follow is unset unless given: such a link is then not copied at all.
          if (follow === true && s.ttype === 'd') copytree(from, to);
          else if (follow === true) sh('cp -L --no-preserve=mode -- "$1" "$2"', [from, to], `copy ${from} to ${to}`);
          else if (follow === false) sh('ln -s -- "$1" "$2"', [s.link, to], `ln -s ${s.link} ${to}`);
        }
        continue;
      }
      if (s.ttype === 'd' && t.ttype === 'd') sync(k);
      else if (s.ttype === 'f' && t.ttype === 'f' && s.sum !== t.sum) {
        changed = true;
        // copymode: the mode of what src resolves to, on what dest resolves to.
        sh('cp -- "$1" "$2" && chmod --reference="$1" -- "$2"', [from, to], `copy ${from} to ${to}`);
      }
    }
  };
  /** chown_recursive over `root`: its entries as they are (and, once applied, what this copies there). */
  const chownTree = (root: string, existing: Own[], copies: boolean) => {
    if (ids.uid === undefined && ids.gid === undefined) return;
    const differ = (k: 'uid' | 'gid', want: number | undefined) =>
      want !== undefined && (existing.some((e) => e[k] !== want) || (copies && !check && h.me[k] !== want));
    if (!differ('uid', ids.uid) && !differ('gid', ids.gid)) return;
    changed = true;
    const spec = `${args.owner ?? ''}${args.group !== undefined ? `:${args.group}` : ''}`;
    sh('chown -hR -- "$1" "$2"', [spec, root], `chown -R ${spec} ${root}`);
  };
  const tree = [...h.T.values()];
  const fresh = (mode: number): Own => ({ mode, uid: h.me.uid, gid: h.me.gid });

  // The path Ansible reports as dest (dest/<src's name>, or dest/ for a src ending in "/", once dest
  // is a directory) and what it will be: its mode is set last.
  let shown: string;
  let after: Own | null;
  if (slash && destIsDir) {
    shown = dest.endsWith('/') ? dest : `${dest}/`;
    sync('');
    chownTree(dest, [destOwn!, ...tree], steps.length > 0);
    after = destOwn;
  } else if (slash) {
    shown = dest;
    changed = true;
    copytree(src, dest);
    chownTree(dest, [], true);
    after = check ? null : fresh(srcOwn!.mode);
  } else if (destIsDir && !targetOwn) {
    shown = target;
    changed = true;
    copytree(src, target);
    chownTree(target, [], true);
    after = check ? null : fresh(srcOwn!.mode);
  } else if (destIsDir) {
    shown = target;
    sync('');
    chownTree(target, [targetOwn!, ...tree], steps.length > 0);
    after = targetOwn;
  } else {
    shown = dest;
    if (check) changed = true;
    sh('mkdir -p -- "$1"', [target], `mkdir -p ${target}`);
    sync('');
    chownTree(target, [], true);
    after = check ? null : fresh(0o777 & ~h.me.umask);
    // Not in chown_recursive's tree (it starts at dest/<src's name>): Ansible's last step sets it.
    const o = ids.uid !== undefined && h.me.uid !== ids.uid;
    const g = ids.gid !== undefined && h.me.gid !== ids.gid;
    if (!check && (o || g)) {
      changed = true;
      const spec = `${o ? args.owner : ''}${g ? `:${args.group}` : ''}`;
      sh('chown -h -- "$1" "$2"', [spec, dest], `chown ${spec} ${dest}`);
    }
  }
  const mode = parseModeArg(args.mode);
  if (mode) {
    const m = after ? modeFor(mode, after.mode, true, h.me.umask) : undefined;
    if (m === undefined || m !== after!.mode) {
      changed = true;
      if (m !== undefined) sh('chmod -- "$1" "$2"', [m.toString(8), shown], `chmod ${m.toString(8)} ${shown}`);
    }
  }
  const result: Record<string, unknown> = { dest: shown, src, md5sum: null, checksum: null };
  // Then the facts of dest as Ansible's exit_json adds them: as read, or after the steps.
  const info = (o: Own | null | undefined) =>
    o
      ? {
          uid: o.uid,
          gid: o.gid,
          owner: o.owner,
          group: o.group,
          mode: modeText(o.mode),
          state: 'directory',
          size: o.size,
        }
      : {};
  const before = shown === target && !(slash && destIsDir) ? targetOwn : destOwn;
  if (check || !steps.length) return { changed, steps: [], result: { ...result, ...info(before) } };
  sh(`stat -L -c 'after=%a|%u|%g|%U|%G|%s' -- "$1"`, [shown], `stat ${shown}`);
  const finish = (outputs: RunResult[]) => {
    const m = /^after=([0-7]+)\|(\d+)\|(\d+)\|([^|]*)\|([^|]*)\|(\d+)$/m.exec(
      outputs[outputs.length - 1]?.stdout ?? '',
    );
    return m ? info({ mode: parseInt(m[1], 8), uid: +m[2], gid: +m[3], owner: m[4], group: m[5], size: +m[6] }) : {};
  };
  return { changed, steps, result, finish };
}
