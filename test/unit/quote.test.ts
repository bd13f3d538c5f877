// shScript's commands are read back by the batch (src/engine/connection/batch.ts runs them in its own subshell):
// the reading must give exactly the script and parameters sh would see, and nothing for any other line.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseShScript, shScript } from '../../src/engine/util/quote.js';

describe('parseShScript', () => {
  it('gives back the script and parameters of any shScript command', () => {
    const hostile = [
      '',
      "'",
      "''",
      "a'\\''b",
      'two\nlines',
      ' lead and trail ',
      '$(touch /tmp/x)',
      '`id`',
      '-c',
      'sh',
      'é ü',
      '*',
      '\\',
      '"',
    ];
    const scripts = ['echo "$1"', "it's got 'quotes'", 'line one\nline two', ''];
    for (const script of scripts) {
      for (const args of [[], hostile, [42, 'x']]) {
        assert.deepEqual(
          parseShScript(shScript(script, args)),
          { script, args: args.map(String) },
          `${script} ${JSON.stringify(args)}`,
        );
      }
    }
  });

  it('gives nothing for any other command', () => {
    for (const c of [
      'echo hello',
      'sh -c echo',
      'sh -c echo bash x',
      'sh -c echo sh x; rm -rf /tmp/y', // more than words
      "sh -c echo sh 'unterminated",
      'sh -c echo sh $HOME',
      'sh -c echo sh a  b', // two spaces: not shellJoin's
      "sh -c 'a'b sh", // a word glued to a quote
      'sh -c echo sh "x"',
      "sh -c 'echo' sh x", // quoted where shellJoin would not quote
    ])
      assert.equal(parseShScript(c), undefined, c);
  });
});
