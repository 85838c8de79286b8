// Serializers turn `data` into a message body and back, chosen by datacontenttype on the way in. Invariant:
// decode(encode(x)) equals x for every value the serializer accepts; JSON is the default.

export interface EncodeContext {
  readonly topic: string;
  readonly type: string;
}

export interface DecodeContext {
  readonly topic: string;
  readonly type: string;
  readonly contentType: string | undefined;
  readonly dataschema: string | undefined;
}

export interface Encoded {
  readonly body: Buffer;
  /** The schema the body was written with (a schema registry serializer sets it; `dataschema`). */
  readonly dataschema?: string;
}

/**
 * A serializer. `encode`/`decode` may be async: the hook a schema registry uses (look up or register
 * the schema, prefix the body with its id, return the schema's URI as `dataschema`).
 */
export interface Serializer {
  /** MIME type written as `datacontenttype`; also what `matches` compares by default. */
  readonly contentType: string;
  /** Whether this serializer reads a body of `contentType` (defaults to same MIME type, parameters aside). */
  matches?(contentType: string): boolean;
  encode(data: unknown, ctx: EncodeContext): Encoded | Promise<Encoded>;
  decode(body: Buffer, ctx: DecodeContext): unknown;
}

export const jsonSerializer: Serializer = {
  contentType: "application/json",
  matches: (ct) => mime(ct) === "application/json" || mime(ct).endsWith("+json"),
  encode: (data) => ({ body: Buffer.from(JSON.stringify(data === undefined ? null : data)) }),
  decode: (body) => (body.length === 0 ? undefined : JSON.parse(body.toString("utf8"))),
};

export const bufferSerializer: Serializer = {
  contentType: "application/octet-stream",
  encode: (data) => {
    if (!Buffer.isBuffer(data) && !(data instanceof Uint8Array)) {
      throw new TypeError("the buffer serializer takes a Buffer or Uint8Array; use json for other values");
    }
    return { body: Buffer.from(data) };
  },
  decode: (body) => body,
};

export const textSerializer: Serializer = {
  contentType: "text/plain; charset=utf-8",
  matches: (ct) => mime(ct) === "text/plain",
  encode: (data) => ({ body: Buffer.from(String(data), "utf8") }),
  decode: (body) => body.toString("utf8"),
};

function mime(contentType: string): string {
  return (contentType.split(";")[0] ?? "").trim().toLowerCase();
}

export function serializerMatches(s: Serializer, contentType: string): boolean {
  return s.matches ? s.matches(contentType) : mime(s.contentType) === mime(contentType);
}

/** Content types whose pick is remembered, at most (a bus sees a handful). */
const PICKS_MAX = 64;

/**
 * The serializers a bus decodes with, in order, and the one each content type picked: matching parses
 * the MIME type for each serializer, which per message was a measurable cost (`matches` is pure).
 */
export class SerializerChoice {
  private readonly picked = new Map<string, Serializer | null>();

  constructor(readonly serializers: readonly Serializer[]) {}

  /** The first serializer that reads `contentType`, if any. */
  for(contentType: string): Serializer | undefined {
    let s = this.picked.get(contentType);
    if (s === undefined) {
      s = this.serializers.find((x) => serializerMatches(x, contentType)) ?? null;
      if (this.picked.size < PICKS_MAX) this.picked.set(contentType, s);
    }
    return s ?? undefined;
  }
}

/**
 * Picks the serializer for a received body: the first whose content type matches; a body without a
 * content type is JSON when it parses as such, else a Buffer (messages from clients that set none).
 */
export function decodeBody(
  serializers: readonly Serializer[] | SerializerChoice,
  body: Buffer,
  ctx: DecodeContext,
): unknown {
  const ct = ctx.contentType;
  if (ct === undefined) {
    try {
      return jsonSerializer.decode(body, ctx);
    } catch {
      return body;
    }
  }
  const s =
    serializers instanceof SerializerChoice
      ? serializers.for(ct)
      : serializers.find((x) => serializerMatches(x, ct));
  return s === undefined ? body : s.decode(body, ctx);
}
