// A connection listener whose code loads on the first connection, so a port accepts from the start without
// loading its protocol. Invariant: sockets accepted while loading are handed over in accept order, or destroyed.

import type { Socket } from "node:net";

export type SocketHandler = (socket: Socket) => void;

/**
 * Wraps `load` (called once, on the first connection) as a handler. A load that fails is reported once through
 * `onLoadError`; every socket waiting for it, and every later one, is then destroyed.
 */
export function lazySocketHandler(
  load: () => Promise<SocketHandler>,
  onLoadError: (err: unknown) => void,
): SocketHandler {
  let handler: SocketHandler | undefined;
  let loading: Promise<SocketHandler> | undefined;
  return (socket) => {
    if (handler !== undefined) {
      handler(socket);
      return;
    }
    if (loading === undefined) {
      loading = load();
      loading.catch(onLoadError);
    }
    // Until a handler owns the socket, a peer's reset must not become an uncaught 'error' event.
    const ignore = () => {};
    socket.on("error", ignore);
    loading.then(
      (loaded) => {
        handler = loaded;
        socket.off("error", ignore);
        if (!socket.destroyed) loaded(socket);
      },
      () => socket.destroy(),
    );
  };
}
