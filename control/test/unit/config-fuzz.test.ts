/**
 * The config loader under a bounded mutation-fuzz run (test/fuzz/config-fuzz.ts):
 * every mutated config is either loaded and turned into a dataplane command
 * line, or refused with a ConfigError naming the field; nothing else, and
 * no input takes more than the per-input limit (the alias bomb included).
 * `npm run fuzz` runs the same fuzzer for longer with a fresh seed.
 */
import * as assert from 'node:assert/strict';
import { fuzzConfig } from '../fuzz/config-fuzz';

describe('config loader under mutation fuzzing', function () {
  this.timeout(120000);

  it('loads or refuses with a named field 3000 mutated configs, each in bounded time', () => {
    const rep = fuzzConfig({ iterations: 3000, seed: 42, maxMsPerInput: 1000 });
    assert.equal(rep.executions, 3000);
    assert.ok(rep.valid > 30, `some mutants still load (${rep.valid})`);
    assert.ok(rep.rejected > 300, `most are refused (${rep.rejected})`);
  });
});
