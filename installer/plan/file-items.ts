import { randomBytes } from "node:crypto";
import type { Stats } from "node:fs";
import { chmod, chown, lstat, mkdir, readFile, readlink, rename, rm, symlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { HostSystem } from "../host-system.js";
import { InstallStepError } from "../install-errors.js";
import { type ChangeTag, commandItem, type PlanItem } from "./plan-item.js";
import { replaceFileAtomically } from "./replace-file.js";

/**
 * Plan items for files, folders and links: each compares what is on disk
 * with what should be there and plans only the difference. Files are
 * replaced atomically (temp file in the same folder, fsync, rename), so a
 * crash leaves the old or the new file, never half of one. Messages name
 * paths, modes and owners, never contents (secrets.env holds the token).
 */

export interface Owner {
  user: string;
  group: string;
}

export const ROOT_OWNER: Owner = Object.freeze({ user: "root", group: "root" });

export function describeMode(mode: number, owner: Owner): string {
  return `${mode.toString(8).padStart(4, "0")} ${owner.user}:${owner.group}`;
}

interface EntryOptions {
  mode: number;
  owner: Owner;
  tags?: readonly ChangeTag[];
}

export async function ensureDirectory(
  system: HostSystem,
  path: string,
  opts: EntryOptions,
): Promise<PlanItem[]> {
  const host = system.path(path);
  const current = await lstatOrUndefined(host);
  const label = `${path} (${describeMode(opts.mode, opts.owner)})`;
  if (current === undefined) {
    return [
      {
        kind: "change",
        done: `created ${label}`,
        planned: `create ${label}`,
        ...tagged(opts.tags),
        apply: async () => {
          await mkdir(host, { recursive: true, mode: opts.mode });
          await chmod(host, opts.mode);
          await applyOwner(system, host, opts.owner);
        },
      },
      ...stagedChown(system, path, opts.owner),
    ];
  }
  if (!current.isDirectory()) {
    throw new InstallStepError(
      "E_NOT_A_DIRECTORY",
      `${path} exists but is not a directory; move it away first`,
    );
  }
  return orUnchanged(await modeAndOwnerItems(system, path, current, opts), path);
}

export interface FileOptions extends EntryOptions {
  /** An existing file is left as it is, whatever its content (the config without --force). */
  keepExisting?: boolean;
  /** Said instead of the path in messages, e.g. "kept /etc/x (exists; --force overwrites it)". */
  keptNote?: string;
}

export async function ensureFile(
  system: HostSystem,
  path: string,
  content: string | Buffer,
  opts: FileOptions,
): Promise<PlanItem[]> {
  const host = system.path(path);
  const bytes = typeof content === "string" ? Buffer.from(content, "utf8") : content;
  const current = await lstatOrUndefined(host);
  const label = `${path} (${describeMode(opts.mode, opts.owner)})`;
  const write = async () => writeFileAtomically(system, host, bytes, opts);
  if (current === undefined) {
    return [
      {
        kind: "change",
        done: `wrote ${label}`,
        planned: `write ${label}`,
        ...tagged(opts.tags),
        apply: write,
      },
      ...stagedChown(system, path, opts.owner),
    ];
  }
  if (!current.isFile()) {
    throw new InstallStepError(
      "E_NOT_A_FILE",
      `${path} exists but is not a regular file; move it away first`,
    );
  }
  if (opts.keepExisting) {
    return [{ kind: "unchanged", what: opts.keptNote ?? `kept ${path}` }];
  }
  if (!(await readFile(host)).equals(bytes)) {
    return [
      {
        kind: "change",
        done: `updated ${label}`,
        planned: `update ${label}`,
        ...tagged(opts.tags),
        apply: write,
      },
      ...stagedChown(system, path, opts.owner),
    ];
  }
  return orUnchanged(await modeAndOwnerItems(system, path, current, opts), path);
}

/** `path` -> `target`, replaced atomically when it points elsewhere. */
export async function ensureSymlink(
  system: HostSystem,
  path: string,
  target: string,
  tags?: readonly ChangeTag[],
): Promise<PlanItem[]> {
  const host = system.path(path);
  const current = await lstatOrUndefined(host);
  if (current?.isSymbolicLink() && (await readlink(host)) === target) {
    return [{ kind: "unchanged", what: `unchanged ${path} -> ${target}` }];
  }
  if (current !== undefined && !current.isSymbolicLink()) {
    throw new InstallStepError(
      "E_NOT_A_SYMLINK",
      `${path} exists but is not a symbolic link; move it away first`,
    );
  }
  return [
    {
      kind: "change",
      done: `linked ${path} -> ${target}`,
      planned: `link ${path} -> ${target}`,
      ...tagged(tags),
      apply: async () => {
        await mkdir(dirname(host), { recursive: true, mode: 0o755 });
        const temp = join(dirname(host), `.${basename(host)}.${randomBytes(4).toString("hex")}.tmp`);
        await symlink(target, temp);
        await rename(temp, host);
      },
    },
  ];
}

/** Removes a file, link or folder (recursively); `absent` when there is nothing. */
export async function removePath(
  system: HostSystem,
  path: string,
  tags?: readonly ChangeTag[],
): Promise<PlanItem[]> {
  const host = system.path(path);
  const current = await lstatOrUndefined(host);
  if (current === undefined) return [{ kind: "unchanged", what: `absent ${path}` }];
  return [
    {
      kind: "change",
      done: `removed ${path}`,
      planned: `remove ${path}`,
      ...tagged(tags),
      apply: () => rm(host, { recursive: true, force: true }),
    },
  ];
}

/** Writes `bytes` over `host` atomically with mode and owner (the owner only on a real host). */
export async function writeFileAtomically(
  system: HostSystem,
  host: string,
  bytes: Buffer,
  opts: { mode: number; owner: Owner },
): Promise<void> {
  const owner = system.staged ? undefined : await resolveOwner(system, opts.owner);
  await replaceFileAtomically(host, bytes, { mode: opts.mode, ...(owner === undefined ? {} : { owner }) });
}

export async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** uid/gid of an owner on a real system; throws when the user or group does not exist. */
async function resolveOwner(system: HostSystem, owner: Owner): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([system.userId(owner.user), system.groupId(owner.group)]);
  if (uid === undefined || gid === undefined) {
    const missing = uid === undefined ? `user ${owner.user}` : `group ${owner.group}`;
    throw new InstallStepError("E_NO_SUCH_OWNER", `${missing} does not exist`);
  }
  return { uid, gid };
}

async function applyOwner(system: HostSystem, host: string, owner: Owner): Promise<void> {
  if (system.staged) return;
  const { uid, gid } = await resolveOwner(system, owner);
  await chown(host, uid, gid);
}

/** Under --root owners cannot be set (the service user does not exist): the chown is printed instead. */
function stagedChown(system: HostSystem, path: string, owner: Owner): PlanItem[] {
  if (!system.staged || (owner.user === "root" && owner.group === "root")) return [];
  return [commandItem(system, ["chown", `${owner.user}:${owner.group}`, path])];
}

async function modeAndOwnerItems(
  system: HostSystem,
  path: string,
  current: Stats,
  opts: EntryOptions,
): Promise<PlanItem[]> {
  const host = system.path(path);
  const items: PlanItem[] = [];
  const mode = opts.mode.toString(8).padStart(4, "0");
  if ((current.mode & 0o7777) !== opts.mode) {
    items.push({
      kind: "change",
      done: `chmod ${mode} ${path}`,
      planned: `chmod ${mode} ${path}`,
      ...tagged(opts.tags),
      apply: () => chmod(host, opts.mode),
    });
  }
  if (!system.staged) {
    const [uid, gid] = await Promise.all([system.userId(opts.owner.user), system.groupId(opts.owner.group)]);
    if (uid !== current.uid || gid !== current.gid) {
      const who = `${opts.owner.user}:${opts.owner.group}`;
      items.push({
        kind: "change",
        done: `chown ${who} ${path}`,
        planned: `chown ${who} ${path}`,
        ...tagged(opts.tags),
        apply: () => applyOwner(system, host, opts.owner),
      });
    }
  }
  return items;
}

function orUnchanged(changes: PlanItem[], path: string): PlanItem[] {
  return changes.length > 0 ? changes : [{ kind: "unchanged", what: `unchanged ${path}` }];
}

function tagged(tags: readonly ChangeTag[] | undefined): { tags?: readonly ChangeTag[] } {
  return tags === undefined ? {} : { tags };
}
