/** Where the repository root is, for paths the route table and the constructs give relative to it. */
import * as path from 'node:path';

/** The repository root: lib/private/ sits two folders below it. */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
