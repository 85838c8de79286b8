// The server-sent-events reader against bodies cut at awkward places, as a network delivers them.
// Invariant: each assertion fails if a chunk boundary, a CRLF, a comment or a multi-line data changes
// what is yielded.

import assert from "node:assert/strict";
import { test } from "node:test";
import { type ServerEvent, serverEvents } from "./sse.ts";

/** A Response whose body arrives in the given chunks. */
function body(chunks: string[]): Response {
  const bytes = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (const chunk of chunks) c.enqueue(bytes.encode(chunk));
      c.close();
    },
  });
  return new Response(stream);
}

async function all(res: Response): Promise<ServerEvent[]> {
  const out: ServerEvent[] = [];
  for await (const e of serverEvents(res)) out.push(e);
  return out;
}

test("events split across chunks, with CRLF, comments and retry lines, come out whole", async () => {
  const text =
    'retry: 3000\r\n: hello\r\n\r\nevent: stats\r\ndata: {"a":\r\ndata: 1}\r\n\r\nevent: stats\ndata: 2\n\n';
  for (let cut = 1; cut < text.length; cut += 1) {
    const got = await all(body([text.slice(0, cut), text.slice(cut)]));
    assert.deepEqual(
      got,
      [
        { event: "stats", data: '{"a":\n1}' },
        { event: "stats", data: "2" },
      ],
      `cut at ${cut}`,
    );
  }
});

test("an event without its blank line is not yielded; a default event is `message`", async () => {
  assert.deepEqual(await all(body(["data: x\n\n", "data: unfinished"])), [{ event: "message", data: "x" }]);
});
