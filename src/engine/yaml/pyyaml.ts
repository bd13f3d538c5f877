// YAML as Ansible reads it: PyYAML's YAML 1.1 resolver, not YAML 1.2's. Plain yes/no/on/off are
// booleans, 0644 is octal, 1:30 is sexagesimal (90), 1_000 is 1000; a float needs a dot (1e3 is text);
// a dated scalar is a date or datetime (../util/pydate.ts). A float stays a float when it is whole
// (`1.0` is a PyFloat, ../util/pyfloat.ts).
import { float } from '../util/pyfloat.js';
import { TIMESTAMP, parseTimestamp } from '../util/pydate.js';
import type { ParseOptions, DocumentOptions, SchemaOptions, ScalarTag } from 'yaml';

const TAG = 'tag:yaml.org,2002:';
// PyYAML's implicit resolvers (resolver.py), which differ from the yaml package's YAML 1.1 schema.
const TRUE = /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const FALSE = /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/;
const INT = /^[-+]?(?:0|[1-9][0-9_]*)$/;
const FLOAT = /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|[-+]?\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?)$/;

type Tags = NonNullable<SchemaOptions['customTags']>;
type TagList = Extract<Tags, unknown[]>;

function pyyamlTags(tags: TagList): TagList {
  return tags.flatMap((t) => {
    const s = t as ScalarTag;
    if (!(s.test instanceof RegExp)) return [t];
    // A day that does not exist (2001-13-14) stays text, where PyYAML (and ansible-playbook) fail.
    if (s.tag === `${TAG}timestamp`)
      return [{ ...s, test: TIMESTAMP, resolve: (str: string) => parseTimestamp(str) ?? str }];
    if (s.tag === `${TAG}bool`) return [{ ...s, test: s.identify?.(true) ? TRUE : FALSE }];
    if (s.tag === `${TAG}int` && s.format === undefined) return [{ ...s, test: INT }];
    if (s.tag === `${TAG}float` && s.format === 'EXP') return [];
    if (s.tag === `${TAG}float` && s.format === undefined && !s.test.test('.nan'))
      return [{ ...s, test: FLOAT, resolve: (str: string) => float(Number(str.replace(/_/g, ''))) }];
    return [t];
  });
}

/** Options for the yaml package's parse/parseDocument/parseAllDocuments: PyYAML's YAML 1.1. */
export const PYYAML: ParseOptions & DocumentOptions & SchemaOptions = {
  version: '1.1',
  customTags: pyyamlTags as Tags,
};
