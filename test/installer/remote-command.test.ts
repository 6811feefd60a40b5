import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { forwardedArgs } from "../../daemon/cli/commands/install-command.js";
import { shellQuote } from "../../installer/shell-quote.js";
import { checkSshTarget, remoteInstallCommand, sshOptions } from "../../installer/ssh/remote-command.js";

test("shellQuote makes any argument one word for sh", () => {
  const nasty = ["plain", "with space", "it's", "$(rm -rf /)", "`id`", "a\nb", "", "'\"'"];
  const echoed = execFileSync("sh", ["-c", `printf '%s\\0' ${nasty.map(shellQuote).join(" ")}`], {
    encoding: "utf8",
  });
  assert.deepEqual(echoed.split("\0").slice(0, -1), nasty);
});

test("the remote command runs the install with sudo -n when not root, and always cleans up", () => {
  const command = remoteInstallCommand({
    tempDir: "/tmp/cvety-sidecar.AbC",
    packageTarball: "cvety-sidecar-1.0.0.tgz",
    depsTarball: "node_modules.tgz",
    nodePath: "/usr/bin/node",
    sudo: true,
    installArgs: ["--yes", "--crm-url", "https://crm.example/x?a=1&b=$HOME"],
  });
  assert.equal(
    command,
    "trap 'rm -rf '\\''/tmp/cvety-sidecar.AbC'\\''' EXIT && cd '/tmp/cvety-sidecar.AbC' && tar -xzf 'cvety-sidecar-1.0.0.tgz' && " +
      "tar -xzf 'node_modules.tgz' -C package && 'sudo' '-n' '/usr/bin/node' 'package/dist/daemon/cli/bin.js' 'install' '--yes' '--crm-url' 'https://crm.example/x?a=1&b=$HOME'",
  );
});

test("ssh targets and options that ssh would read as something else are refused", () => {
  assert.equal(checkSshTarget("root@shop.example"), "root@shop.example");
  assert.throws(() => checkSshTarget("-oProxyCommand=id"), /expected user@host/);
  assert.throws(() => checkSshTarget("root@host;id"), /expected user@host/);
  assert.throws(() => sshOptions({ target: "h", options: ["-oProxyCommand=id"] }, "-p"), /Key=Value/);
  assert.deepEqual(
    sshOptions({ target: "h", port: "2222", identity: "/k", options: ["UserKnownHostsFile=/kh"] }, "-P"),
    ["-o", "BatchMode=yes", "-P", "2222", "-i", "/k", "-o", "UserKnownHostsFile=/kh"],
  );
});

test("--ssh forwards the install flags but never a secret", () => {
  const args = forwardedArgs({
    crmUrl: "https://crm.example/webhooks/bitrix/order",
    crmToken: "secret-token",
    mysqlUrl: "mysql://u:secret-pw@h/db",
    createMysqlUser: true,
    disablePhpHook: true,
    root: "/tmp/stage",
    sshOption: [],
  });
  assert.deepEqual(args, [
    "--crm-url",
    "https://crm.example/webhooks/bitrix/order",
    "--create-mysql-user",
    "--disable-php-hook",
    "--root",
    "/tmp/stage",
  ]);
});
