#!/bin/sh
':' //; export CORRAL_INHERITED_SIGIGN="$(sed -n 's/^SigIgn:[[:space:]]*//p' /proc/$$/status 2>/dev/null)"; exec node "$0" "$@"
// The line above runs only when the shell starts this file (as the `corral` binary): Node resets an
// inherited SIG_IGN before any JavaScript runs, so the shell reads its own ignored signals (nohup's
// SIGHUP) and passes them on. For Node the line is a string and a comment.
// The binary is a thin shim: Node >= 22.18 runs corral's TypeScript sources directly (type stripping),
// so there is no build step between a checkout and a working `corral`. `npm ci` installs that Node as
// a devDependency, and npx/npm scripts put it first on PATH.
import module from 'node:module';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `corral: needs Node.js >= 22.18 (this is ${process.version}).\n` +
      `Run it through npx inside the repository (npx corral ...), which uses the Node that \`npm ci\` installed.\n`,
  );
  process.exit(2);
}
module.enableCompileCache?.();
const { main } = await import('../src/cli/main.ts');
await main(process.argv.slice(2));
