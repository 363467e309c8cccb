/** The guard's GPU probe process as a script for Node (gpu-helper.ts says what it does). */
import { serveGpuProbes } from './gpu-helper.ts';

await serveGpuProbes();
