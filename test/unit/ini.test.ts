// INI files as configparser reads them (src/engine/template/ini.ts) and the ini/csvfile lookups' errors;
// their values are in the table of jinja.test.ts, checked against ansible-core.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IniError, iniItems, parseIni } from '../../src/engine/template/ini.js';
import { renderString } from '../../src/engine/template/jinja.js';
import { V } from './jinja-table.js';

describe('parseIni', () => {
  it('DEFAULT is inherited, continued lines join, keys fold to lower case unless case-sensitive', () => {
    const text = '[DEFAULT]\nbase = /srv\n[app]\nDir = %(base)s/app\nlist = a\n  b\n\n  c\n\nnext: 1\n';
    assert.deepEqual(iniItems(parseIni(text), 'app'), [
      ['base', '/srv'],
      ['dir', '/srv/app'],
      ['list', 'a\nb\n\nc'],
      ['next', '1'],
    ]);
    assert.deepEqual(iniItems(parseIni(text, { caseSensitive: true }), 'app')[1], ['Dir', '/srv/app']);
  });

  it('refuses what configparser refuses: no header, a duplicate, a bare key, a lone %', () => {
    assert.throws(() => parseIni('a = 1\n'), IniError);
    assert.throws(() => parseIni('[s]\na = 1\nA = 2\n'), /option 'a' in section already exists/);
    assert.throws(() => parseIni('[s]\nflag\n'), /parsing errors/);
    assert.deepEqual(iniItems(parseIni('[s]\nflag\n', { allowNoValue: true }), 's'), [['flag', null]]);
    assert.throws(() => iniItems(parseIni('[s]\np = 50%\n'), 's'), /'%' must be followed/);
    assert.deepEqual(iniItems(parseIni('[s]\np = 50%%\n'), 's'), [['p', '50%']]);
  });
});

describe('ini and csvfile lookups: errors as ansible-core words them', () => {
  it('a missing section, an unknown inline option, a missing file', () => {
    assert.throws(
      () => renderString('{{ lookup("ini", "user section=nosuch file=users.ini") }}', V),
      /No section 'nosuch' in users.ini/,
    );
    assert.throws(
      () => renderString('{{ lookup("ini", "user sectoin=x file=users.ini") }}', V),
      /is not a valid option/,
    );
    assert.throws(() => renderString('{{ lookup("csvfile", "Li file=nofile.csv") }}', V), /nofile.csv/);
    assert.throws(() => renderString('{{ lookup("csvfile", "file=elements.csv") }}', V), /Search key is required/);
  });
});
