import { createHash } from "node:crypto";
import { chmod, copyFile, mkdir, readdir, readFile, stat } from "node:fs/promises";
import { dirname, join, posix, relative } from "node:path";
import { InstallStepError } from "../install-errors.js";
import { productionDependencies } from "./production-deps.js";

/**
 * Everything /opt/cvety-sidecar/<version> holds: the package's own files as
 * npm would pack them (package.json, README, LICENSE and its `files` list:
 * dist, the systemd templates...) plus its production dependencies. The
 * fingerprint (a SHA-256 over paths and contents) tells a re-run whether the
 * installed copy is this exact code.
 */

export interface InstallFile {
  /** POSIX path inside the version folder. */
  rel: string;
  /** Absolute path it is copied from. */
  source: string;
  executable: boolean;
}

export interface PackageContents {
  name: string;
  version: string;
  files: InstallFile[];
}

/** npm always packs these from the package root, whatever `files` says. */
const ALWAYS_PACKED = /^(package\.json|readme(\..*)?|license(\..*)?|licence(\..*)?|changelog(\..*)?)$/i;

export async function listPackageContents(packageDir: string): Promise<PackageContents> {
  const manifest = JSON.parse(await readFile(join(packageDir, "package.json"), "utf8")) as {
    name?: string;
    version?: string;
    files?: unknown;
  };
  if (typeof manifest.version !== "string" || typeof manifest.name !== "string") {
    throw new InstallStepError("E_PACKAGE", `${packageDir}/package.json has no name or version`);
  }
  if (!Array.isArray(manifest.files) || manifest.files.some((f) => typeof f !== "string")) {
    throw new InstallStepError("E_PACKAGE", `${packageDir}/package.json has no "files" list`);
  }
  const files: InstallFile[] = [];
  for (const entry of await readdir(packageDir, { withFileTypes: true })) {
    if (entry.isFile() && ALWAYS_PACKED.test(entry.name))
      files.push(await fileEntry(packageDir, entry.name, entry.name));
  }
  for (const listed of manifest.files as string[]) {
    const rel = posix.normalize(listed.replace(/^\.\//, "").replace(/\/$/, ""));
    if (/[*?[\]{}!]/.test(rel) || rel.startsWith("..") || rel.startsWith("/")) {
      throw new InstallStepError(
        "E_PACKAGE",
        `package.json "files" entry "${listed}": only plain relative paths are supported`,
      );
    }
    files.push(...(await walk(packageDir, rel, { skipNodeModules: false })));
  }
  for (const dep of await productionDependencies(packageDir)) {
    for (const file of await walk(dep.source, "", { skipNodeModules: true })) {
      if (!isBuildLeftover(file.rel)) files.push({ ...file, rel: posix.join(dep.dest, file.rel) });
    }
  }
  const unique = new Map(files.map((f) => [f.rel, f]));
  return {
    name: manifest.name,
    version: manifest.version,
    files: [...unique.values()].sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0)),
  };
}

/**
 * A native module compiled on this machine (node-gyp) leaves its object
 * files next to the .node file it loads: only the latter is needed to run.
 */
function isBuildLeftover(rel: string): boolean {
  return (
    /^build\/(?:.*\/)?(?:obj|obj\.target|\.deps)\//.test(rel) ||
    /^build\/(?:.*\/)?(?:[^/]+\.(?:o|a|mk|d)|Makefile|config\.gypi)$/.test(rel)
  );
}

/** Files are read this many at a time: thousands of small files, a slow disk. */
const IO_BATCH = 32;

/** SHA-256 over every file's path, executable bit and content, in path order. */
export async function fingerprintFiles(files: readonly InstallFile[]): Promise<string> {
  const hash = createHash("sha256");
  for (let i = 0; i < files.length; i += IO_BATCH) {
    const batch = files.slice(i, i + IO_BATCH);
    const contents = await Promise.all(batch.map((f) => readFile(f.source)));
    batch.forEach((file, j) => {
      const content = contents[j] as Buffer;
      hash.update(`${file.rel}\0${file.executable ? "x" : "-"}\0${content.length}\0`);
      hash.update(content);
    });
  }
  return hash.digest("hex");
}

/** Copies into destDir with modes 0755/0644 whatever the umask (root's may be 077: the service could not read). */
export async function copyFiles(files: readonly InstallFile[], destDir: string): Promise<void> {
  const dirs = new Set<string>([destDir]);
  for (const file of files) {
    for (
      let dir = dirname(join(destDir, file.rel));
      dir.startsWith(destDir) && !dirs.has(dir);
      dir = dirname(dir)
    ) {
      dirs.add(dir);
    }
  }
  // Sorted, a parent comes before its children.
  for (const dir of [...dirs].sort()) {
    await mkdir(dir, { recursive: true, mode: 0o755 });
    await chmod(dir, 0o755);
  }
  for (let i = 0; i < files.length; i += IO_BATCH) {
    await Promise.all(
      files.slice(i, i + IO_BATCH).map(async (file) => {
        const target = join(destDir, file.rel);
        await copyFile(file.source, target);
        await chmod(target, file.executable ? 0o755 : 0o644);
      }),
    );
  }
}

async function fileEntry(root: string, rel: string, display: string): Promise<InstallFile> {
  const source = join(root, rel);
  const info = await stat(source).catch(() => undefined);
  if (!info?.isFile()) throw new InstallStepError("E_PACKAGE", `${display}: not a file in ${root}`);
  return { rel, source, executable: (info.mode & 0o111) !== 0 };
}

/** Regular files below root/rel (rel itself may be a file); symbolic links are followed. */
async function walk(root: string, rel: string, opts: { skipNodeModules: boolean }): Promise<InstallFile[]> {
  const start = join(root, rel);
  const info = await stat(start).catch(() => undefined);
  if (info === undefined) {
    throw new InstallStepError("E_PACKAGE", `${start} is missing: is the package built (npm run build)?`);
  }
  if (info.isFile()) return [{ rel, source: start, executable: (info.mode & 0o111) !== 0 }];
  const out: InstallFile[] = [];
  const pending = [start];
  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (opts.skipNodeModules && entry.name === "node_modules" && dir === start) continue;
      const entryInfo = entry.isSymbolicLink() ? await stat(path).catch(() => undefined) : undefined;
      if (entry.isDirectory() || entryInfo?.isDirectory()) pending.push(path);
      else if (entry.isFile() || entryInfo?.isFile()) {
        const mode = entryInfo?.mode ?? (await stat(path)).mode;
        out.push({ rel: relative(root, path), source: path, executable: (mode & 0o111) !== 0 });
      }
    }
  }
  return out;
}
