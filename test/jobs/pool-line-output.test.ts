import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCorral, tempHome } from '../helpers/corral.ts';
import { withTracker } from '../helpers/procs.ts';

/*
 * Issue 10 item 5: task output as GNU parallel gives it. --line-buffer passes each task's output on
 * to corral's stdout (stderr to stderr) whole lines at a time; --tag also puts the item and a TAB
 * before each line. Three tasks at once each write 40 lines in two writes per line, so lines of
 * different tasks would mix mid-line if they were passed on as written.
 */
const WRITER = 'i=0; while [ $i -lt 40 ]; do i=$((i+1)); printf "%s:" {}; printf "%s\\n" $i; done; printf "last {}"; echo "oops {}" >&2';

describe('corral pool --tag / --line-buffer', () => {
  it('--tag: every stdout line is whole and starts with its item and a TAB; stderr lines too', () => withTracker('tag', async (env) => {
    const r = await runCorral(['pool', '-q', '--jobs', '3', '--tag', '--', WRITER, ':::', 'x', 'y', 'z z'], { home: tempHome(), env });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 3 * 41, r.stdout);
    for (const item of ['x', 'y', 'z z']) {
      const mine = lines.filter((l) => l.startsWith(`${item}\t`));
      assert.deepEqual(mine.slice(0, 40), Array.from({ length: 40 }, (_, i) => `${item}\t${item}:${i + 1}`), `lines of ${item} in order and whole`);
      assert.equal(mine[40], `${item}\tlast ${item}`, 'an unfinished last line is ended');
      assert.match(r.stderr, new RegExp(`^${item}\toops ${item}$`, 'm'));
    }
  }));

  it('--line-buffer: the lines as written, no prefix, whole; without it nothing reaches stdout', () => withTracker('lb', async (env) => {
    const r = await runCorral(['pool', '-q', '--jobs', '3', '--line-buffer', '--', WRITER, ':::', 'x', 'y', 'z'], { home: tempHome(), env });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 3 * 41);
    for (const l of lines) assert.match(l, /^([xyz]:\d+|last [xyz])$/);
    assert.match(r.stderr, /^oops x$/m);
    const quiet = await runCorral(['pool', '-q', '--jobs', '3', '--', WRITER, ':::', 'x', 'y'], { home: tempHome(), env });
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stdout, '', 'tasks write only to their logs by default');
  }));

  it('--tag in a pool of several stages puts the stage before the item', () => withTracker('tag-stages', async (env) => {
    const d = mkdtempSync(join(tmpdir(), 'corral-tag-'));
    const file = join(d, 'pool.yaml');
    writeFileSync(file, 'jobs: 2\nitems: [p, q]\nstages:\n  - name: make\n    run: echo made {}\n  - name: check\n    needs: [make]\n    run: echo checked {}\n');
    const r = await runCorral(['pool', '-q', '--tag', file], { home: tempHome(), env });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trimEnd().split('\n').sort(), ['check p\tchecked p', 'check q\tchecked q', 'make p\tmade p', 'make q\tmade q']);
  }));

  it('--tag with --json exits 2: both would write to stdout', async () => {
    const r = await runCorral(['pool', '--jobs', '1', '--tag', '--json', '--', 'true', ':::', 'a'], { home: tempHome() });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--tag passes the tasks' output on to stdout, where --json writes the result/);
  });
});
