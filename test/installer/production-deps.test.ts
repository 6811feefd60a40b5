import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { productionDependencies } from "../../installer/code/production-deps.js";

const dir = mkdtempSync(join(tmpdir(), "cvety-deps-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function pkg(path: string, manifest: Record<string, unknown>): void {
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, "package.json"), JSON.stringify(manifest));
}

test("a checkout's dependencies keep npm's layout: hoisted where free, nested where versions differ, dev ones left out", async () => {
  const app = join(dir, "checkout");
  pkg(app, {
    name: "app",
    dependencies: { a: "1", b: "1", "@s/d": "1" },
    devDependencies: { dev: "1" },
    optionalDependencies: { gone: "1" },
  });
  pkg(join(app, "node_modules/a"), { name: "a", dependencies: { c: "2" } });
  pkg(join(app, "node_modules/a/node_modules/c"), { name: "c", version: "2" });
  pkg(join(app, "node_modules/b"), { name: "b", dependencies: { c: "1" } });
  pkg(join(app, "node_modules/c"), { name: "c", version: "1" });
  pkg(join(app, "node_modules/@s/d"), { name: "@s/d" });
  pkg(join(app, "node_modules/dev"), { name: "dev" });
  const placed = await productionDependencies(app);
  assert.deepEqual(
    placed.map((p) => [p.dest, p.source.slice(app.length + 1)]),
    [
      ["node_modules/@s/d", "node_modules/@s/d"],
      ["node_modules/a", "node_modules/a"],
      ["node_modules/a/node_modules/c", "node_modules/a/node_modules/c"],
      ["node_modules/b", "node_modules/b"],
      ["node_modules/c", "node_modules/c"],
    ],
  );
});

test("from the npx cache (dependencies are siblings), the package's own nested versions win the top level", async () => {
  const cache = join(dir, "npx");
  const app = join(cache, "node_modules/app");
  pkg(app, { name: "app", dependencies: { a: "1", c: "2" } });
  pkg(join(app, "node_modules/c"), { name: "c", version: "2" });
  pkg(join(cache, "node_modules/a"), { name: "a", dependencies: { c: "1" } });
  pkg(join(cache, "node_modules/c"), { name: "c", version: "1" });
  const placed = await productionDependencies(app);
  assert.deepEqual(
    placed.map((p) => [p.dest, p.source.slice(cache.length + 1)]),
    [
      ["node_modules/a", "node_modules/a"],
      ["node_modules/a/node_modules/c", "node_modules/c"],
      ["node_modules/c", "node_modules/app/node_modules/c"],
    ],
  );
});

test("a missing dependency is named, with the cure", async () => {
  const app = join(dir, "broken");
  pkg(app, { name: "app", dependencies: { missing: "1" } });
  await assert.rejects(productionDependencies(app), /cannot find missing, a dependency of app .*npm ci/);
});
