import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCorral, tempHome } from '../helpers/corral.ts';

/*
 * Colour through the real binary, its stderr a pipe: FORCE_COLOR=0 is no colour (it used to turn colour
 * on), FORCE_COLOR=1 forces it onto the pipe, NO_COLOR and a plain pipe have none.
 */
const ESC = /\x1b\[/;

async function colourOf(env: NodeJS.ProcessEnv): Promise<{ run: string; error: string }> {
  const home = tempHome();
  // NO_COLOR: undefined unsets the helper's default NO_COLOR=1
  const all = { NO_COLOR: undefined, FORCE_COLOR: undefined, ...env };
  const run = await runCorral(['run', '--', 'true'], { home, env: all });
  assert.equal(run.code, 0, run.stderr);
  const error = await runCorral(['ps', '--no-such-flag'], { home, env: all });
  assert.equal(error.code, 2);
  return { run: run.stderr, error: error.stderr };
}

describe('colour follows NO_COLOR, FORCE_COLOR and the stream', { concurrency: 4 }, () => {
  it('FORCE_COLOR=0: no escapes', async () => {
    const out = await colourOf({ FORCE_COLOR: '0' });
    assert.doesNotMatch(out.run + out.error, ESC);
  });
  it('FORCE_COLOR=1 on a pipe: escapes', async () => {
    const out = await colourOf({ FORCE_COLOR: '1' });
    assert.match(out.run, /\x1b\[36mcorral:/);
    assert.match(out.error, /\x1b\[31mcorral: error: unknown option/);
  });
  it('NO_COLOR=1: none', async () => {
    const out = await colourOf({ NO_COLOR: '1' });
    assert.doesNotMatch(out.run + out.error, ESC);
  });
  it('a plain pipe: none', async () => {
    const out = await colourOf({});
    assert.doesNotMatch(out.run + out.error, ESC);
  });
});
