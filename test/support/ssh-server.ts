/**
 * A real OpenSSH server for the installer's --ssh tests: /usr/sbin/sshd in
 * the foreground on 127.0.0.1 and a free port, with its own config, a
 * throwaway host key and one authorized user key, all in a temp folder.
 * The client side gets a known_hosts file with that host key, so the test
 * connects with host key checking on, as ops would.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { userInfo } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export const SSHD = "/usr/sbin/sshd";

export interface SshServer {
  port: number;
  /** user@127.0.0.1 for the user running the tests. */
  target: string;
  /** Private key the server accepts. */
  identity: string;
  /** ssh -o options for this server: its known_hosts, strict checking. */
  options: string[];
  stop(): Promise<void>;
}

export async function startSshServer(dir: string): Promise<SshServer> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const hostKey = join(dir, "host_ed25519");
  const identity = join(dir, "id_ed25519");
  for (const key of [hostKey, identity]) {
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "cvety-sidecar test", "-f", key]);
  }
  writeFileSync(join(dir, "authorized_keys"), readFileSync(`${identity}.pub`), { mode: 0o600 });
  const port = await freePort();
  const user = userInfo().username;
  writeFileSync(
    join(dir, "sshd_config"),
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AllowUsers ${user}`,
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin prohibit-password",
      "UsePAM no",
      // The temp folder is not owned the way StrictModes wants a home folder to be.
      "StrictModes no",
      // scp speaks SFTP since OpenSSH 9.
      "Subsystem sftp internal-sftp",
      "LogLevel ERROR",
      "",
    ].join("\n"),
  );
  // sshd's privilege separation folder; the openssh-server package makes it when its service starts.
  if (!existsSync("/run/sshd")) mkdirSync("/run/sshd", { mode: 0o755 });
  const knownHosts = join(dir, "known_hosts");
  writeFileSync(
    knownHosts,
    `[127.0.0.1]:${port} ${readFileSync(`${hostKey}.pub`, "utf8").split(" ").slice(0, 2).join(" ")}\n`,
  );

  const child: ChildProcess = spawn(SSHD, ["-D", "-e", "-f", join(dir, "sshd_config")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!(await answersSsh(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`sshd did not start on 127.0.0.1:${port}: ${stderr}`);
    }
    await sleep(50);
  }
  return {
    port,
    target: `${user}@127.0.0.1`,
    identity,
    options: [
      `UserKnownHostsFile=${knownHosts}`,
      "StrictHostKeyChecking=yes",
      "IdentitiesOnly=yes",
      "LogLevel=ERROR",
    ],
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

async function answersSsh(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("data", (d) => done(d.toString().startsWith("SSH-")));
    socket.connect(port, "127.0.0.1");
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}
