import { readFile, realpath, stat } from "node:fs/promises";
import { basename, dirname, join, posix, relative, sep } from "node:path";
import { InstallStepError } from "../install-errors.js";

/**
 * The production dependencies of the running package, taken from where Node
 * resolves them right now (the npx cache, a global install, a checkout after
 * `npm ci`), so the durable copy needs no network and keeps the native SQLite
 * module built for this very Node. devDependencies are never followed.
 *
 * Each needed package gets a place in the copy's node_modules tree: hoisted
 * to the top when its name is free there, nested under the package that
 * needs it otherwise, and then every dependency edge is checked again the
 * way Node would resolve it in the copy, nesting more where a later
 * placement shadowed an earlier one, until all of them resolve right.
 */

export interface PlacedPackage {
  /** Real path of the package folder being copied. */
  source: string;
  /** Where it goes in the copy, POSIX-relative: "node_modules/a" or "node_modules/a/node_modules/b". */
  dest: string;
}

interface PackageNode {
  source: string;
  /** Dependency name -> real path it resolves to from this package. */
  deps: Map<string, string>;
}

interface Manifest {
  name?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

export async function productionDependencies(packageDir: string): Promise<PlacedPackage[]> {
  const root = await realpath(packageDir);
  const nodes = await dependencyGraph(root);
  // dest ("" for the package itself) -> source.
  const slots = new Map<string, string>([["", root]]);
  const place = (dest: string, source: string) => {
    const taken = slots.get(dest);
    if (taken !== undefined && taken !== source) {
      throw new InstallStepError("E_DEPENDENCY_LAYOUT", `two packages need ${dest}: ${taken} and ${source}`);
    }
    slots.set(dest, source);
  };

  // What npm laid out below the package itself keeps its place (a checkout after `npm ci`)...
  for (const source of nodes.keys()) {
    if (source.startsWith(`${root}${sep}node_modules${sep}`))
      place(relative(root, source).split(sep).join("/"), source);
  }
  // ...the rest (the npx cache keeps dependencies next to the package) is hoisted where the name is free.
  const queue: Array<{ dest: string; node: PackageNode }> = [
    { dest: "", node: nodes.get(root) as PackageNode },
  ];
  const queued = new Set<string>([""]);
  for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
    for (const [name, source] of item.node.deps) {
      const found = resolveInCopy(slots, item.dest, name);
      if (found !== undefined && slots.get(found) === source) {
        if (!queued.has(found)) queue.push({ dest: found, node: nodes.get(source) as PackageNode });
        queued.add(found);
        continue;
      }
      const dest =
        found === undefined ? posix.join("node_modules", name) : posix.join(item.dest, "node_modules", name);
      place(dest, source);
      queued.add(dest);
      queue.push({ dest, node: nodes.get(source) as PackageNode });
    }
  }

  // A package nested later can shadow what one below it resolved earlier: fix until stable.
  for (let changed = true; changed; ) {
    changed = false;
    for (const [dest, source] of [...slots]) {
      for (const [name, depSource] of (nodes.get(source) as PackageNode).deps) {
        const found = resolveInCopy(slots, dest, name);
        if (found !== undefined && slots.get(found) === depSource) continue;
        const nested = posix.join(dest, "node_modules", name);
        place(nested, depSource);
        changed = true;
        // Its own dependencies must resolve from the new place too: the next pass checks them.
      }
    }
  }
  return [...slots]
    .filter(([dest]) => dest !== "")
    .map(([dest, source]) => ({ dest, source }))
    .sort((a, b) => a.dest.localeCompare(b.dest));
}

/** Node's lookup from a folder in the copy: <dir>/node_modules/<name>, then each parent's. */
function resolveInCopy(
  slots: ReadonlyMap<string, string>,
  fromDest: string,
  name: string,
): string | undefined {
  let dir = fromDest;
  for (;;) {
    const candidate = posix.join(dir, "node_modules", name);
    if (slots.has(candidate)) return candidate;
    if (dir === "") return undefined;
    // Step out of ".../node_modules/<pkg>" (or "@scope/pkg") to the folder holding that node_modules.
    const parts = dir.split("/");
    const nm = parts.lastIndexOf("node_modules");
    dir = nm <= 0 ? "" : parts.slice(0, nm).join("/");
  }
}

async function dependencyGraph(root: string): Promise<Map<string, PackageNode>> {
  const nodes = new Map<string, PackageNode>();
  const pending = [root];
  for (let source = pending.pop(); source !== undefined; source = pending.pop()) {
    if (nodes.has(source)) continue;
    const manifest = await readManifest(source);
    const node: PackageNode = { source, deps: new Map() };
    nodes.set(source, node);
    const wanted: Array<[string, boolean]> = [
      ...Object.keys(manifest.dependencies ?? {}).map((n): [string, boolean] => [n, false]),
      ...Object.keys(manifest.optionalDependencies ?? {}).map((n): [string, boolean] => [n, true]),
      // npm installs peers too; one that is not installed is left to its owner.
      ...Object.keys(manifest.peerDependencies ?? {}).map((n): [string, boolean] => [n, true]),
    ];
    for (const [name, optional] of wanted) {
      if (node.deps.has(name)) continue;
      const found = await resolvePackageDir(source, name);
      if (found === undefined) {
        if (optional) continue;
        throw new InstallStepError(
          "E_DEPENDENCY_MISSING",
          `cannot find ${name}, a dependency of ${manifest.name ?? source} (looked from ${source}); reinstall the package (npm ci)`,
        );
      }
      node.deps.set(name, found);
      pending.push(found);
    }
  }
  return nodes;
}

/** Node's resolution of a package folder from `fromDir`: each ancestor's node_modules/<name>. */
async function resolvePackageDir(fromDir: string, name: string): Promise<string | undefined> {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    if (basename(dir) !== "node_modules") {
      const candidate = join(dir, "node_modules", name);
      if (await isFile(join(candidate, "package.json"))) return realpath(candidate);
    }
    if (dirname(dir) === dir) return undefined;
  }
}

async function readManifest(dir: string): Promise<Manifest> {
  return JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as Manifest;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
