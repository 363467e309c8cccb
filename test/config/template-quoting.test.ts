import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';

/*
 * Issue 9 item 5: a pool's shell command quotes each item for the place its placeholder stands in
 * ("{}" and '{}' included), so a hostile item never runs; places corral cannot quote for are refused.
 */
const t = new Tracker();
after(async () => assert.deepEqual(await t.cleanup(), []));

const dir = mkdtempSync(join(tmpdir(), 'corral-quote-'));
const pwn = join(dir, 'pwned');
after(() => rmSync(dir, { recursive: true, force: true }));

const HOSTILE = [`$(touch ${pwn})`, `x; touch ${pwn}`, `x'; touch ${pwn}; '`, `x"; touch ${pwn}; "`, `\`touch ${pwn}\``, `a\\'; touch ${pwn} #`];
const LEGIT = ['two words', `it's "quoted"`, '$HOME and `date`', 'line one\nline two', 'back\\slash\\', '', '  edges  ', '%s %d', '-n'];

async function pool(cmd: string, items: string[]) {
  const home = tempHome();
  const token = t.token('quote');
  const res = await runCorral(['pool', '--jobs', '1', '-q', '--', cmd, ':::', ...items], { home, env: { CORRAL_TEST_TOKEN: token } });
  await waitFor(() => t.alive().length === 0, 'the pool to leave nothing behind', 5000);
  return { res, home };
}

for (const [label, place] of [['unquoted', '{}'], ['double-quoted', '"{}"'], ['single-quoted', "'{}'"], ['inside words', `"<"{}'>'`]] as const) {
  test(`${label} placeholder: hostile items print as text and never run`, async () => {
    const out = mkdtempSync(join(dir, 'out-'));
    const { res } = await pool(`printf %s ${place} > ${out}/{#}`, HOSTILE);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(existsSync(pwn), false, 'no item ran as code');
    const wrap = place.startsWith('"<"') ? (v: string) => `<${v}>` : (v: string) => v;
    HOSTILE.forEach((v, i) => assert.equal(readFileSync(join(out, String(i + 1)), 'utf8'), wrap(v), `item ${i + 1}`));
  });

  test(`${label} placeholder: spaces, quotes, $, backquotes, newlines arrive byte-exact in argv`, async () => {
    const out = mkdtempSync(join(dir, 'argv-'));
    // the task's whole argv, NUL-separated: what the program was given, word by word
    const { res } = await pool(`python3 -c 'import sys; sys.stdout.write("\\0".join(sys.argv[1:]))' ${place} ${place} > ${out}/{#}`, LEGIT.filter((v) => v !== ''));
    assert.equal(res.code, 0, res.stderr);
    LEGIT.filter((v) => v !== '').forEach((v, i) => assert.equal(readFileSync(join(out, String(i + 1)), 'utf8'), `${wrap2(place, v)}\0${wrap2(place, v)}`));
  });
}

function wrap2(place: string, v: string): string {
  return place.startsWith('"<"') ? `<${v}>` : v;
}

test('an empty item is one empty argument in every place', async () => {
  const out = mkdtempSync(join(dir, 'empty-'));
  const { res } = await pool(`python3 -c 'import sys; print(len(sys.argv) - 1)' {} "{}" '{}' > ${out}/{#}`, ['']);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(readFileSync(join(out, '1'), 'utf8'), '3\n');
});

for (const [cmd, where] of [
  ['echo `cat {}`', /inside backquotes/],
  ['echo ${X:-{}}', /inside \$\{\.\.\.\}/],
  ['echo $(( {} + 1 ))', /inside \$\(\(\.\.\.\)\)/],
  ['echo hi # {}', /in a shell comment/],
  ['echo \\{}', /right after a backslash/],
  ['cat <<EOF\n{}\nEOF', /after a here-document/],
] as const) {
  test(`a placeholder corral cannot quote for is refused before anything starts: ${JSON.stringify(cmd)}`, async () => {
    const { res, home } = await pool(cmd, [`$(touch ${pwn})`]);
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /the command: expected each placeholder where corral can quote it for sh/);
    assert.match(res.stderr, where);
    assert.deepEqual(readdirSync(home), [], 'no ledger, no logs');
    assert.equal(existsSync(pwn), false);
  });
}
