import { join } from 'node:path';
import { corralHome } from '../ledger/location.ts';

/** The guard's own SQLite file beside the ledger: it writes every scan, so it never holds the ledger's lock. */
export const GUARD_DB_NAME = 'guard.sqlite';

export function guardStatePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(corralHome(env), GUARD_DB_NAME);
}
