#!/usr/bin/env node
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
