import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';

/*
 * Issue 10 item 5: on a machine where no probe sees a pool's GPUs, the preflight warning is printed
 * once per pool, not once per task or per GPU. GPU indexes 900-902 exist on no machine, so this holds
 * on a GPU machine too.
 */
describe('corral pool: the "no probe can see GPU" warning', () => {
  it('is printed once for a pool of six tasks over three unseen GPUs', async () => {
    const t = new Tracker();
    const token = t.token('gpu-warning');
    try {
      const r = await runCorral(['pool', '--gpus', '900-902', '--', 'true', ':::', 'a', 'b', 'c', 'd', 'e', 'f'], { home: tempHome(), env: { CORRAL_TEST_TOKEN: token } });
      assert.equal(r.code, 0, r.stderr);
      const warnings = r.stderr.split('\n').filter((l) => /no probe can see GPU/.test(l));
      assert.equal(warnings.length, 1, r.stderr);
      assert.match(warnings[0]!, /GPU 90[0-2] .*this pool's GPUs are not checked/);
    } finally {
      await waitFor(() => t.alive().length === 0, 'the pool to be gone', 5000).catch(() => {});
      assert.deepEqual(await t.cleanup(), []);
    }
  });
});
