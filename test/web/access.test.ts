import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { after, test } from 'node:test';
import { startCorral, tempHome } from '../helpers/corral.ts';
import { Tracker } from '../helpers/procs.ts';
import { startUi, stopCorral } from './web-kit.ts';

const t = new Tracker();
const started: Awaited<ReturnType<typeof startUi>>[] = [];
after(async () => {
  for (const s of started) await stopCorral(s.ui);
  assert.deepEqual(await t.cleanup(), [], 'every corral ui ended when told to');
});

/** fetch() sets Host itself: a raw request says which name the browser used. */
function statusWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { Host: host } }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.end();
  });
}

/** corral ui that must refuse to start: killed after a deadline if it serves instead, so the test fails, never hangs. */
async function refused(args: string[], home = tempHome()) {
  const p = startCorral(['ui', ...args], { home });
  t.pid(p.child.pid);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
  const res = await p.done;
  clearTimeout(timer);
  return res;
}

async function ui(args: string[], env: NodeJS.ProcessEnv = {}) {
  const s = await startUi(tempHome(), env, args);
  t.pid(s.ui.child.pid);
  started.push(s);
  return s;
}

test('a bind beyond loopback without a token is refused with exit 2, saying how to do it safely; so is a bad --listen', async () => {
  const res = await refused(['--listen', '0.0.0.0:0']);
  assert.equal(res.code, 2);
  assert.match(res.stderr, /refusing to serve the dashboard on 0\.0\.0\.0 without a token/);
  assert.match(res.stderr, /ssh -L/);
  const bad = await refused(['--listen', 'nohost']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--listen 'nohost' is not HOST:PORT/);
  const home = tempHome();
  chmodSync(home, 0o777);
  const unsafe = await refused(['--listen', '127.0.0.1:0'], home);
  assert.equal(unsafe.code, 2, 'a home others can write is refused at start, not on every request');
  assert.match(unsafe.stderr, /refusing/);
  const short = await refused(['--listen', '0.0.0.0:0', '--token', 'abc']);
  assert.equal(short.code, 2);
  assert.match(short.stderr, /token must be 8 to 1024 characters/);
});

test('by default it serves on 127.0.0.1 at the default port (or one of the nine after it when taken), read-only, with security headers', async () => {
  const { url } = await ui([]);
  assert.match(url, /^http:\/\/127\.0\.0\.1:94(6[5-9]|7[0-4])\/$/);
  const page = await fetch(url);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-security-policy')!, /default-src 'self'.*frame-ancestors 'none'/);
  assert.equal(page.headers.get('x-frame-options'), 'DENY');
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  assert.match(await page.text(), /<title>corral dashboard<\/title>/);
  for (const method of ['POST', 'PUT', 'DELETE']) assert.equal((await fetch(url + 'api/strays', { method })).status, 405, method);
  // a page elsewhere that points its own name at 127.0.0.1 (DNS rebinding) reads nothing
  assert.equal(await statusWithHost(url + 'api/strays', 'attacker.example:9465'), 403);
  assert.equal(await statusWithHost(url + 'api/strays', 'localhost:9465'), 200);
  assert.equal((await fetch(url + 'api/../../etc/passwd')).status, 404);
});

test('an explicit port that is taken fails clearly with exit 2', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as { port: number }).port;
  try {
    const res = await refused(['--listen', `127.0.0.1:${port}`]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: port ${port} is taken`));
  } finally {
    blocker.close();
  }
});

test('with a token every request needs it: bearer header, ?token= (which sets a cookie), or that cookie; a wrong one is refused', async () => {
  const token = 'secret-token-0123456789';
  const { url } = await ui(['--listen', '0.0.0.0:0', '--interval', '1s'], { CORRAL_UI_TOKEN: token });
  const base = url.replace('0.0.0.0', '127.0.0.1');
  assert.equal((await fetch(base)).status, 401);
  assert.equal((await fetch(base + 'api/gpus')).status, 401);
  assert.equal((await fetch(base + 'app.js')).status, 401, 'assets too');
  assert.equal((await fetch(base + 'api/gpus', { headers: { Authorization: 'Bearer wrong-token-0123456789' } })).status, 401);
  assert.equal((await fetch(base + 'api/gpus?token=secret-token-012345678')).status, 401, 'a prefix is not the token');
  assert.equal((await fetch(base + 'api/gpus', { headers: { Authorization: `Bearer ${token}` } })).status, 200);
  const first = await fetch(base + `?token=${token}`);
  assert.equal(first.status, 200);
  const cookie = first.headers.get('set-cookie')!.split(';')[0]!;
  assert.match(first.headers.get('set-cookie')!, /HttpOnly; SameSite=Strict/);
  assert.equal((await fetch(base + 'api/strays', { headers: { Cookie: cookie } })).status, 200);
  assert.equal((await fetch(base + 'api/strays', { headers: { Cookie: cookie.replace(/=.*/, '=nope') } })).status, 401);
});
