/**
 * The repository root, so test helpers find fixtures and compiled files the same
 * way whether they run from `test/support` (sources) or `dist/test/support`
 * (compiled by tsc with rootDir "."): walk up to the first folder holding a
 * package.json. `dist/` has none, so the compiled copy lands on the repo root too.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findPackageRoot(startDir: string): string {
  let dir = startDir;
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${startDir}`);
    dir = parent;
  }
}

export const PACKAGE_ROOT: string = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
