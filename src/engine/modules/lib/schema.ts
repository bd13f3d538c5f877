// Schema fragments and argument coercions shared by the modules.

/**
 * A boolean argument. Quoted or templated, Ansible's `yes`/`no` arrive as strings, so those
 * spellings are accepted too and turned into booleans by `toBool`.
 */
export const boolArg = {
  type: ['boolean', 'string'],
  enum: [true, false, 'yes', 'no', 'true', 'false', 'True', 'False', 'on', 'off'],
};

export type BoolArg = boolean | string;

/** unsafe_writes: taken and ignored, as Ansible ignores it wherever an atomic rename works. */
export const unsafeWritesArg = boolArg;

export const modeArg = { type: ['string', 'integer'] };

/** `path` with Ansible's aliases `dest` and `name` (a module takes exactly one of them). */
export const pathAliasProps = {
  path: { type: 'string', minLength: 1 },
  dest: { type: 'string', minLength: 1 },
  name: { type: 'string', minLength: 1 },
};
export const onePathAlias = [{ required: ['path'] }, { required: ['dest'] }, { required: ['name'] }];

/** lineinfile's and blockinfile's path also as `destfile`. */
export const destfileProp = { destfile: pathAliasProps.path };
export const onePathOrDestfile = [...onePathAlias, { required: ['destfile'] }];

/**
 * Ansible's aliases folded into their options (alias → option): as Ansible's argument spec does it,
 * the alias's value wins when both are given, with its warning.
 */
export function foldAliases<A extends object>(
  args: A,
  aliases: Record<string, string>,
): { args: A; warnings: string[] } {
  const out = { ...args } as Record<string, unknown>;
  const warnings: string[] = [];
  for (const [alias, option] of Object.entries(aliases)) {
    if (!Object.hasOwn(out, alias)) continue;
    if (Object.hasOwn(out, option)) warnings.push(`Both option ${option} and its alias ${alias} are set.`);
    out[option] = out[alias];
    delete out[alias];
  }
  return { args: out as A, warnings };
}

/** owner/group/mode, as every file-managing module takes them. */
export const attrProps = {
  owner: { type: 'string', minLength: 1 },
  group: { type: 'string', minLength: 1 },
  mode: modeArg,
};

/** What lineinfile and blockinfile both take: the file, where in it, create, owner/group/mode, validate. */
export const textEditProps = {
  ...pathAliasProps,
  state: { enum: ['present', 'absent'] },
  insertafter: { type: 'string', minLength: 1 },
  insertbefore: { type: 'string', minLength: 1 },
  create: boolArg,
  ...attrProps,
  validate: { type: 'string' },
  backup: boolArg,
  unsafe_writes: unsafeWritesArg,
};

/**
 * Normalise a mode argument to 4 octal digits. Strings as written ("644", "0644"). An integer is the
 * mode's value, as Ansible takes it: YAML 1.1 reads `mode: 0644` as 420 ("0644"), and `mode: 644` as
 * 644 ("1204"). Symbolic modes are not supported.
 */
export function modeString(mode: unknown): string | undefined {
  if (mode === undefined || mode === null || mode === '') return undefined;
  const s = typeof mode === 'number' && Number.isInteger(mode) && mode >= 0 ? mode.toString(8) : String(mode);
  if (!/^[0-7]{3,4}$/.test(s)) {
    throw new Error(
      `mode must be octal like "0644", got ${JSON.stringify(mode)}${typeof mode === 'number' ? ' (quote it: mode: "0644")' : ''}`,
    );
  }
  return s.padStart(4, '0');
}

/** SELinux contexts, which every file-writing module of Ansible documents. */
export const selinuxRefused = Object.fromEntries(
  ['seuser', 'serole', 'setype', 'selevel'].map((k) => [k, 'SELinux contexts are not set (refused, not ignored)']),
);

/** File attributes (chattr), which the file module sets and the others do not yet. */
export const attributesRefused = Object.fromEntries(
  ['attributes', 'attr'].map((k) => [k, 'not yet: set file attributes with the file module']),
);

/** What a module writing a file but not its attributes or SELinux context refuses. */
export const fileWriteRefused = { ...attributesRefused, ...selinuxRefused };

/** What the file modules' documentation lists for "the file module's arguments": not an argument. */
export const othersRefused = { others: "a placeholder in Ansible's documentation, refused by Ansible too" };

/** An alias relay-play does not take yet, and the name to write instead. */
export const aliasRefused = (name: string) => `an alias not taken yet: write "${name}"`;
