// The HTTP listener: a plain node:http server bound at start; the HTTP app (hono) is loaded on the first request.
// Invariant: the port accepts connections from the ready line on, and every request waits for the one load;
// past the broker-wide connection limit a socket gets 503 and never reaches the app.

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createNetServer, type Server } from "node:net";
import type { HttpContext } from "../gateway/http/index.ts";
import type { ConnectionLimit } from "../lib/index.ts";
import type { Logger } from "./logger.ts";

type RequestListener = (req: IncomingMessage, res: ServerResponse) => unknown;

/** hono and its node adapter were a fifth of the start-up time; a broker may never get an HTTP request. */
async function loadApp(context: Promise<HttpContext>): Promise<RequestListener> {
  const [{ getRequestListener }, { createHttpApp }, ctx] = await Promise.all([
    import("@hono/node-server"),
    import("../gateway/http/index.ts"),
    context,
  ]);
  return getRequestListener(createHttpApp(ctx).fetch);
}

const REFUSED = Buffer.from(
  "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n" +
    'Content-Length: 63\r\n\r\n{"error":"unavailable","reason":"connection limit is reached"}\n',
);

/** `context`: what the API serves, settled once every listener is bound (requests wait for it);
 *  `limit`: the broker-wide connection limit (AMQP + Kafka + HTTP); admitted sockets are handed to the
 *  HTTP server, which never listens itself. */
export function createHttpServer(
  log: Logger,
  context: Promise<HttpContext>,
  limit?: ConnectionLimit,
): Server {
  const http = createAppServer(log, context);
  if (limit === undefined) return http;
  return createNetServer((socket) => {
    const admission = limit.admit(socket, "http");
    if (admission === "accept") {
      http.emit("connection", socket);
      return;
    }
    socket.on("error", () => socket.destroy());
    if (admission === "drop") socket.destroy();
    // answered once the request starts to arrive, so the client is reading when the reply comes
    else socket.once("data", () => socket.end(REFUSED));
    socket.setTimeout(5000, () => socket.destroy());
  });
}

function createAppServer(log: Logger, context: Promise<HttpContext>): Server {
  let app: Promise<RequestListener> | undefined;
  const load = (): Promise<RequestListener> => {
    if (app === undefined) {
      app = loadApp(context);
      app.catch((err: unknown) => log.error({ err }, "the HTTP app failed to load"));
    }
    return app;
  };
  return createServer((req, res) => {
    load().then(
      (listener) => listener(req, res),
      () => {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(
          JSON.stringify({ error: "internal", reason: "the HTTP app failed to load; see the broker's log" }),
        );
      },
    );
  });
}
