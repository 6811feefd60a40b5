import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The package root: two levels above dist/daemon (or daemon/ when run from source). */
function packageRoot(): string {
  let dir = fileURLToPath(new URL(".", import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(`${dir}/package.json`, "utf8")) as { name?: string };
      if (pkg.name === "cvety-sidecar") return dir.replace(/\/$/, "");
    } catch {
      // not here; go up
    }
    dir = fileURLToPath(new URL("..", `file://${dir}`));
  }
  throw new Error("cvety-sidecar: cannot find its package.json");
}

export const PACKAGE_DIR = packageRoot();
export const VERSION: string = (
  JSON.parse(readFileSync(`${PACKAGE_DIR}/package.json`, "utf8")) as { version: string }
).version;
