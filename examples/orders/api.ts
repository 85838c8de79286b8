// The order API over HTTP (node:http): POST /orders answers 202 Accepted at once with the status URL to
// poll (and calls the callbackUrl the client gave when the order ends); the user queries read the CQRS
// read models. Invariant: a 202 is sent only after the order and its OrderCreated are committed.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Db } from "./db.ts";
import { type OrderService, parseOrderInput } from "./orders.ts";
import type { Tables } from "./schema.ts";
import { userSummary, userTransactions } from "./wallet.ts";

export interface Api {
  readonly url: string;
  close(): Promise<void>;
}

const BODY_MAX = 64 * 1024;

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > BODY_MAX) throw new TypeError(`the body is over ${BODY_MAX} bytes`);
    chunks.push(c as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new TypeError("the body is not JSON");
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

export async function startApi(orders: OrderService, readDb: Db, t: Tables): Promise<Api> {
  const route = async (req: IncomingMessage, res: ServerResponse, base: string) => {
    const path = new URL(req.url ?? "/", base).pathname;
    if (req.method === "POST" && path === "/orders") {
      let input: ReturnType<typeof parseOrderInput>;
      try {
        input = parseOrderInput(await readJson(req));
      } catch (e) {
        return send(res, 400, { error: `POST /orders: ${(e as Error).message}` });
      }
      const order = await orders.place(input);
      const statusUrl = `${base}/orders/${order.id}`;
      return send(res, 202, { id: order.id, status: order.status, statusUrl }, { location: statusUrl });
    }
    let m = /^\/orders\/([\w-]+)$/u.exec(path);
    if (req.method === "GET" && m) {
      const order = await orders.get(m[1]!);
      return order ? send(res, 200, order) : send(res, 404, { error: `no order ${m[1]}` });
    }
    m = /^\/users\/([\w-]+)(\/transactions)?$/u.exec(path);
    if (req.method === "GET" && m) {
      if (m[2]) return send(res, 200, await userTransactions(readDb, t, m[1]!));
      const summary = await userSummary(readDb, t, m[1]!);
      return summary ? send(res, 200, summary) : send(res, 404, { error: `no user ${m[1]}` });
    }
    send(res, 404, {
      error: `no route ${req.method} ${path} (POST /orders, GET /orders/ID, GET /users/ID[/transactions])`,
    });
  };
  let base = "";
  const server: Server = createServer((req, res) => {
    route(req, res, base).catch((e) => send(res, 500, { error: String(e) }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
