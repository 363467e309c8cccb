import { main } from '../src/cli/main.ts';

/*
 * The entry of the single-file binary (scripts/build-binary.ts bundles from here). Inside a single
 * executable, process.argv is [binary, binary, ...arguments], as for `node script.js ...arguments`, so
 * the arguments start at index 2 as in bin/corral.js.
 */
void main(process.argv.slice(2));
