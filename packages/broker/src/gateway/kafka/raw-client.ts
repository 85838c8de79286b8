// Test helper: one Kafka request over its own socket, encoded and decoded with @spindle/protocol's codecs,
// for checks that a stock client cannot express (exact fetch sizes, duplicate batches).
// Invariant: every socket opened here is destroyed once its response (or an error) arrived.

import { connect } from "node:net";
import {
  encodeRequestHeader,
  getKafkaApi,
  requestHeaderVersion,
  responseHeaderVersion,
} from "@spindle/protocol";

let correlation = 1;

export async function request<Res>(
  address: string,
  apiKey: number,
  version: number,
  body: unknown,
): Promise<Res> {
  const api = getKafkaApi(apiKey);
  if (!api) throw new Error(`unknown api ${apiKey}`);
  const correlationId = correlation++;
  const header = encodeRequestHeader(requestHeaderVersion(apiKey, version) ?? 1, {
    apiKey,
    apiVersion: version,
    correlationId,
    clientId: "raw",
  });
  const payload = api.encodeRequest(version, body);
  const size = Buffer.alloc(4);
  size.writeInt32BE(header.length + payload.length);
  const reply = await exchange(address, Buffer.concat([size, header, payload]));
  // size (4) + correlation id (4) + an empty tagged-field section in response header v1 (1)
  const skip = 8 + ((responseHeaderVersion(apiKey, version) ?? 0) >= 1 ? 1 : 0);
  if (reply.readInt32BE(4) !== correlationId) throw new Error("correlation id mismatch");
  return api.decodeResponse(version, reply.subarray(skip)) as Res;
}

function exchange(address: string, frame: Buffer): Promise<Buffer> {
  const [host, port] = address.split(":") as [string, string];
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), host);
    const chunks: Buffer[] = [];
    let have = 0;
    let need = -1;
    s.on("data", (c: Buffer) => {
      chunks.push(c);
      have += c.length;
      if (need < 0 && have >= 4) need = 4 + Buffer.concat(chunks, 4).readInt32BE(0);
      if (need >= 0 && have >= need) {
        s.destroy();
        resolve(Buffer.concat(chunks, have));
      }
    });
    s.on("error", reject);
    s.on("close", () => reject(new Error("connection closed before a response")));
    s.write(frame);
  });
}
