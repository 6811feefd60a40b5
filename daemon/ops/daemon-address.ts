import { parseListen } from "../http/http-server.js";

/**
 * The URL the CLI uses to reach the daemon's HTTP listener (`[http] listen`),
 * or undefined when it is `off`. A wildcard listen address (0.0.0.0, ::) is
 * reached through loopback: the CLI runs on the same host.
 */
export function daemonUrl(listen: string, path: string): string | undefined {
  if (listen === "off") return undefined;
  let { host, port } = parseListen(listen);
  if (host === "0.0.0.0") host = "127.0.0.1";
  else if (host === "::") host = "::1";
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}${path}`;
}
