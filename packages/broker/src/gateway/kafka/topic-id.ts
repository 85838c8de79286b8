// Topic ids on the Kafka wire: streams/ keeps them as RFC 4122 strings, the codec writes the 16 bytes
// from their 22-character base64url form. Invariant: every topic id a response carries goes through here.

/** The null topic id (all zero bits), sent where a topic has no id (unknown topics, errors). */
export const ZERO_TOPIC_ID = "AAAAAAAAAAAAAAAAAAAAAA";

/** `3f2504e0-4f89-41d3-9a0c-0305e82c3301` → the same 16 bytes as base64url, as the codec takes them. */
export function wireTopicId(uuid: string): string {
  const hex = uuid.replaceAll("-", "");
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new RangeError(`topic id "${uuid}" is not a UUID`);
  return Buffer.from(hex, "hex").toString("base64url");
}

/** The codec's base64url form back to the RFC 4122 string streams/ keys topics by. */
export function uuidFromWire(id: string): string {
  const hex = Buffer.from(id, "base64url").toString("hex").padEnd(32, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
