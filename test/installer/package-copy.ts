/**
 * A copy of this package with another version number, to test upgrades:
 * the built files as npm would pack them, and node_modules linked to this
 * checkout's (the installer copies dependencies from where Node resolves them).
 */
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { PACKAGE_ROOT } from "../support/package-root.js";

export function packageWithVersion(dir: string, version: string): string {
  const manifest = JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as {
    version: string;
    files: string[];
  };
  mkdirSync(dir, { recursive: true });
  for (const entry of manifest.files) {
    mkdirSync(dirname(join(dir, entry)), { recursive: true });
    cpSync(join(PACKAGE_ROOT, entry), join(dir, entry), { recursive: true });
  }
  writeFileSync(join(dir, "package.json"), `${JSON.stringify({ ...manifest, version }, null, 2)}\n`);
  symlinkSync(join(PACKAGE_ROOT, "node_modules"), join(dir, "node_modules"));
  return join(dir, "dist", "daemon", "cli", "bin.js");
}
