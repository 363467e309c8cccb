import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ITEMS_FILE_KEYS, POOL_KEYS, loadPoolFile } from '../../src/config/pool-file.ts';
import { STAGE_KEYS } from '../../src/config/pool-file-stages.ts';
import { ROOT, runCorral, tempHome } from '../helpers/corral.ts';
import { validate } from './schema-check.ts';
import { writePool, yamlLines } from './temp-pool.ts';

/*
 * Issue 10 item 6: the pool file's schema is published (schema/pool.schema.json), the example names it
 * on its yaml-language-server line and satisfies it, and the schema, docs/pool-file.md and
 * `corral pool --help` each cover every key the parser accepts.
 */
const SCHEMA_PATH = join(ROOT, 'schema', 'pool.schema.json');
const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8'));
const EXAMPLE = join(ROOT, 'examples', 'pool.yaml');

describe('the pool file JSON Schema', () => {
  it('examples/pool.yaml names the schema on its yaml-language-server line, satisfies it, and loads', () => {
    const text = readFileSync(EXAMPLE, 'utf8');
    const m = /^# yaml-language-server: \$schema=(\S+)$/m.exec(text);
    assert.ok(m, 'the example has a yaml-language-server $schema line');
    assert.equal(resolve(dirname(EXAMPLE), m[1]!), SCHEMA_PATH);
    assert.deepEqual(validate(parse(text), schema), []);
    assert.equal(loadPoolFile(EXAMPLE).stages.length, 2);
  });

  it('covers exactly the keys the parser accepts, each with a description', () => {
    assert.deepEqual(Object.keys(schema.properties).sort(), [...POOL_KEYS].sort());
    assert.deepEqual(Object.keys(schema.definitions.stage.properties).sort(), [...STAGE_KEYS].sort());
    const fileForm = schema.properties.items.anyOf.find((f: { type: string }) => f.type === 'object');
    assert.deepEqual(Object.keys(fileForm.properties).sort(), [...ITEMS_FILE_KEYS].sort());
    for (const [k, v] of [...Object.entries(schema.properties), ...Object.entries(schema.definitions.stage.properties)]) {
      assert.ok((v as { description?: string }).description, `${k} has a description`);
    }
  });

  const VALID: string[][] = [
    ['gpus: 0-3', 'per_gpu: 2', 'items: [a, a]', 'stages:', '  - run: echo {} {#}'],
    ['gpus: [0, "2-3"]', 'halt: soon-after:2', 'preflight: wait', 'min_free_mem: 2GiB', 'items: [a]', 'stages:', '  - run: [echo, "{}"]'],
    ['gpus: 0', 'items: [{ckpt: a.pt, seed: 1}]', 'stages:', '  - name: s', '    run: echo {ckpt}', '    timeout: 1h30m', '    retries: 2', '    backoff: 500ms', '    backoff_max: 1m', '    stop_signal: INT', '    grace: 5', '  - name: e', '    needs: s', '    run: "true"', '    env: {A: 1}'],
    ['jobs: 4', 'name: cpu', 'grace: 1s', 'log_max: 4K', 'cwd: .', 'env: {SEED: "1", EMPTY: }', 'items: [1, 2.5, true]', 'stages:', '  - run: echo {}'],
  ];
  const INVALID: [string, string[]][] = [
    ['a bare GPU count', ['gpus: 2', 'items: [a]', 'stages:', '  - run: echo']],
    ['gpus and jobs', ['gpus: 0-1', 'jobs: 2', 'items: [a]', 'stages:', '  - run: echo']],
    ['neither gpus nor jobs', ['items: [a]', 'stages:', '  - run: echo']],
    ['a misspelt key', ['jobs: 2', 'per_gpus: 2', 'items: [a]', 'stages:', '  - run: echo']],
    ['a stage without run', ['jobs: 2', 'items: [a]', 'stages:', '  - name: s']],
    ['an unknown preflight', ['jobs: 2', 'preflight: wiat', 'items: [a]', 'stages:', '  - run: echo']],
    ['a bad halt', ['jobs: 2', 'halt: now-after:0', 'items: [a]', 'stages:', '  - run: echo']],
    ['a bad duration', ['jobs: 2', 'items: [a]', 'stages:', '  - run: echo', '    timeout: 10 minutes']],
    ['empty items', ['jobs: 2', 'items: []', 'stages:', '  - run: echo']],
    ['an items file with a bad format', ['jobs: 2', 'items: {file: a.txt, format: csv}', 'stages:', '  - run: echo']],
    ['a bad env name', ['jobs: 2', 'env: {1BAD: x}', 'items: [a]', 'stages:', '  - run: echo']],
  ];

  for (const lines of VALID) {
    it(`accepts what corral accepts: ${lines[0]}`, () => {
      const text = yamlLines(...lines);
      assert.deepEqual(validate(parse(text), schema), []);
      assert.doesNotThrow(() => loadPoolFile(writePool(text)));
    });
  }
  for (const [what, lines] of INVALID) {
    it(`refuses what corral refuses: ${what}`, () => {
      const text = yamlLines(...lines);
      assert.notDeepEqual(validate(parse(text), schema), [], 'the schema refuses it');
      assert.throws(() => loadPoolFile(writePool(text, { 'a.txt': 'x\n' })), { name: 'UsageError' });
    });
  }
});

describe('the pool file documentation', () => {
  it('docs/pool-file.md documents every key, and `corral pool --help` lists every key and links the page', async () => {
    const doc = readFileSync(join(ROOT, 'docs', 'pool-file.md'), 'utf8');
    for (const k of [...POOL_KEYS, ...STAGE_KEYS, ...ITEMS_FILE_KEYS]) assert.match(doc, new RegExp(`^\\| \`${k}\` \\|`, 'm'), `a table row for ${k}`);
    assert.match(doc, /schema\/pool\.schema\.json/);
    const help = await runCorral(['pool', '--help'], { home: tempHome() });
    assert.equal(help.code, 0);
    const keys = help.stdout.slice(help.stdout.indexOf("A pool file's keys"));
    for (const k of [...POOL_KEYS, ...STAGE_KEYS]) assert.match(keys, new RegExp(`(^|\\s)${k}(\\s|:|$)`), `--help lists ${k}`);
    assert.match(keys, /docs\/pool-file\.md/);
    assert.match(keys, /gpus: 2 is refused, write \[2\] or 0-1/);
  });
});
