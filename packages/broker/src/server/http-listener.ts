// The HTTP listener: a plain node:http server bound at start; the HTTP app (hono) is loaded on the first request.
// Invariant: the port accepts connections from the ready line on, and every request waits for the one load.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "./logger.ts";

type RequestListener = (req: IncomingMessage, res: ServerResponse) => unknown;

/** hono and its node adapter were a fifth of the start-up time; a broker may never get an HTTP request. */
async function loadApp(): Promise<RequestListener> {
  const [{ getRequestListener }, { createHttpApp }] = await Promise.all([
    import("@hono/node-server"),
    import("../gateway/http/index.ts"),
  ]);
  return getRequestListener(createHttpApp().fetch);
}

export function createHttpServer(log: Logger): Server {
  let app: Promise<RequestListener> | undefined;
  const load = (): Promise<RequestListener> => {
    if (app === undefined) {
      app = loadApp();
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
