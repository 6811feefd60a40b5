/**
 * Starts a test HTTPS server on 127.0.0.1 (a free port unless one is given)
 * and tracks its sockets, so `stop()` can end keep-alive connections at once
 * instead of waiting for clients to hang up.
 */
import type { Server } from "node:https";
import type { Socket } from "node:net";

export async function listenOnLoopback(
  server: Server,
  port = 0,
): Promise<{ port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  // A client that gives up mid-handshake (e.g. the untrusted-CA tests) is not a server problem.
  server.on("tlsClientError", () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.removeListener("error", reject);
      resolve();
    });
  });
  const address = server.address();
  return { port: typeof address === "object" && address !== null ? address.port : 0, sockets };
}

/** Closes the server, cutting its open connections. */
export async function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const socket of sockets) socket.destroy();
  await closed;
}
