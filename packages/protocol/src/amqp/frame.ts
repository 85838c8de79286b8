// AMQP 0-9-1 frames: raw (type, channel, payload) ⇄ typed method / content header / body / heartbeat frames.
// Invariant: every encoded frame is 7-byte header + payload + 0xCE, and decode(encode(f)) is f.
import { frameError } from "./codec-error.ts";
import { FRAME_BODY, FRAME_END, FRAME_HEADER, FRAME_HEARTBEAT, FRAME_METHOD } from "./generated/constants.ts";
import { type AmqpMethod, decodeMethod, encodeMethodTo } from "./generated/methods.ts";
import {
  BASIC_CLASS_ID,
  type BasicProperties,
  type BasicPropertiesLazy,
  decodeBasicProperties,
  decodeBasicPropertiesLazy,
  encodeBasicProperties,
} from "./generated/properties.ts";
import { WireReader } from "./wire-reader.ts";
import { WireWriter } from "./wire-writer.ts";

/** Bytes around each payload: type (1) + channel (2) + size (4) + frame-end (1). */
export const FRAME_OVERHEAD_BYTES = 8;
export const FRAME_HEADER_BYTES = 7;

/** A frame as cut from the byte stream; `payload` may share memory with the chunk it came in. */
export interface RawFrame {
  readonly type: number;
  readonly channel: number;
  readonly payload: Buffer;
}

export interface MethodFrame {
  readonly type: "method";
  readonly channel: number;
  readonly method: AmqpMethod;
}
export interface HeaderFrame {
  readonly type: "header";
  readonly channel: number;
  readonly classId: number;
  /** Unused by 0-9-1; must be zero. */
  readonly weight: number;
  /** Total size of the body frames that follow (an unsigned 64-bit field, bounded to a safe integer). */
  readonly bodySize: number;
  readonly properties: BasicProperties;
}
export interface BodyFrame {
  readonly type: "body";
  readonly channel: number;
  readonly payload: Buffer;
}
export interface HeartbeatFrame {
  readonly type: "heartbeat";
  readonly channel: 0;
}
export type AmqpFrame = MethodFrame | HeaderFrame | BodyFrame | HeartbeatFrame;
/** A content header whose header table is checked but left as bytes (decodeBasicPropertiesLazy). */
export interface LazyHeaderFrame extends Omit<HeaderFrame, "properties"> {
  readonly properties: BasicPropertiesLazy;
}
export type LazyAmqpFrame = MethodFrame | LazyHeaderFrame | BodyFrame | HeartbeatFrame;

export function isKnownFrameType(type: number): boolean {
  return type === FRAME_METHOD || type === FRAME_HEADER || type === FRAME_BODY || type === FRAME_HEARTBEAT;
}

/** Interprets a raw frame. Throws AmqpCodecError (501 framing, 502 field values, 503 unknown method). */
export function decodeFrame(raw: RawFrame): AmqpFrame {
  if (raw.type === FRAME_HEADER) return decodeHeaderFrame(raw, decodeBasicProperties);
  return decodeOtherFrame(raw);
}

/**
 * decodeFrame, but a content header's table stays bytes (a view of `raw.payload`), checked as decodeFrame
 * checks it: the same frames fail with the same errors. For a broker that keeps the property bytes anyway.
 */
export function decodeFrameLazy(raw: RawFrame): LazyAmqpFrame {
  if (raw.type === FRAME_HEADER) return decodeHeaderFrame(raw, decodeBasicPropertiesLazy);
  return decodeOtherFrame(raw);
}

function decodeOtherFrame(raw: RawFrame): MethodFrame | BodyFrame | HeartbeatFrame {
  switch (raw.type) {
    case FRAME_METHOD:
      return { type: "method", channel: raw.channel, method: decodeMethod(raw.payload) };
    case FRAME_BODY:
      return { type: "body", channel: raw.channel, payload: raw.payload };
    case FRAME_HEARTBEAT:
      if (raw.channel !== 0) throw frameError(`heartbeat frame on channel ${raw.channel}, must be 0`);
      if (raw.payload.length !== 0)
        throw frameError(`heartbeat frame with ${raw.payload.length} payload bytes`);
      return { type: "heartbeat", channel: 0 };
    default:
      throw frameError(`unknown frame type ${raw.type}`);
  }
}

function decodeHeaderFrame<P>(
  raw: RawFrame,
  decodeProperties: (r: WireReader) => P,
): Omit<HeaderFrame, "properties"> & { readonly properties: P } {
  const r = new WireReader(raw.payload, "content header frame");
  const classId = r.u16();
  const weight = r.u16();
  const size = r.u64();
  if (classId !== BASIC_CLASS_ID)
    throw frameError(`content header for class ${classId}, only basic (60) has content`);
  if (weight !== 0) throw frameError(`content header weight ${weight}, must be 0`);
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw frameError(`content body size ${size} is too large`);
  const properties = decodeProperties(r);
  r.expectEnd();
  return { type: "header", channel: raw.channel, classId, weight, bodySize: Number(size), properties };
}

/** Writes the 7-byte header with a size placeholder; returns the offset to patch. */
function beginFrame(w: WireWriter, type: number, channel: number): number {
  w.u8(type);
  w.u16(channel);
  return w.placeholderU32();
}

function endFrame(w: WireWriter, sizeAt: number): void {
  w.patchU32(sizeAt, w.length - sizeAt - 4);
  w.u8(FRAME_END);
}

/** Encodes a typed frame into its wire bytes. */
export function encodeFrame(frame: AmqpFrame): Buffer {
  const w = new WireWriter(128);
  writeFrame(w, frame);
  return w.finish();
}

/** Appends a typed frame's wire bytes to `w`, whole or not at all: a field that does not fit its domain
 *  (a shortstr over 255 bytes) throws with nothing of the frame left in `w`, so the stream stays framed. */
export function writeFrame(w: WireWriter, frame: AmqpFrame): void {
  const mark = w.mark();
  try {
    writeFrameUnchecked(w, frame);
  } catch (e) {
    w.rollback(mark);
    throw e;
  }
}

function writeFrameUnchecked(w: WireWriter, frame: AmqpFrame): void {
  switch (frame.type) {
    case "method": {
      const at = beginFrame(w, FRAME_METHOD, frame.channel);
      encodeMethodTo(w, frame.method);
      endFrame(w, at);
      break;
    }
    case "header": {
      const at = beginFrame(w, FRAME_HEADER, frame.channel);
      w.u16(frame.classId);
      w.u16(frame.weight);
      w.u64(BigInt(frame.bodySize));
      encodeBasicProperties(w, frame.properties);
      endFrame(w, at);
      break;
    }
    case "body": {
      const at = beginFrame(w, FRAME_BODY, frame.channel);
      w.bytes(frame.payload);
      endFrame(w, at);
      break;
    }
    case "heartbeat": {
      const at = beginFrame(w, FRAME_HEARTBEAT, 0);
      endFrame(w, at);
      break;
    }
  }
}

/** Bytes writeContentFrames needs, at most (the method's own size is bounded by its short strings). */
function contentFramesBound(propertyBytes: number, bodyBytes: number, chunk: number): number {
  const bodyFrames = Math.ceil(bodyBytes / chunk);
  return 64 + 3 * FRAME_OVERHEAD_BYTES + 12 + propertyBytes + bodyBytes + bodyFrames * FRAME_OVERHEAD_BYTES;
}

function bodyChunk(frameMax: number, bodyBytes: number): number {
  const chunk = frameMax === 0 ? Math.max(bodyBytes, 1) : frameMax - FRAME_OVERHEAD_BYTES;
  if (chunk <= 0) throw new RangeError(`frame_max ${frameMax} is too small`);
  return chunk;
}

/**
 * Appends a content-carrying method (deliver, get-ok, return) with its header and body frames to `w`, with
 * room made once: the per-message hot path of a connection's output. `propertyBytes` are the
 * already-encoded basic properties (flags word onward).
 */
export function writeContentFrames(
  w: WireWriter,
  channel: number,
  method: AmqpMethod,
  classId: number,
  propertyBytes: Buffer,
  body: Buffer,
  frameMax: number,
): void {
  const chunk = bodyChunk(frameMax, body.length);
  w.ensure(contentFramesBound(propertyBytes.length, body.length, chunk));
  const mark = w.mark();
  // only the method can fail (its shortstrs); the header and body frames after it cannot
  let at = beginFrame(w, FRAME_METHOD, channel);
  try {
    encodeMethodTo(w, method);
  } catch (e) {
    w.rollback(mark);
    throw e;
  }
  endFrame(w, at);
  at = beginFrame(w, FRAME_HEADER, channel);
  w.u16(classId);
  w.u16(0);
  // the u64 body size as two u32 halves: no BigInt per message
  w.u32(Math.floor(body.length / 0x1_0000_0000));
  w.u32(body.length >>> 0);
  w.bytes(propertyBytes);
  endFrame(w, at);
  for (let from = 0; from < body.length; from += chunk) {
    at = beginFrame(w, FRAME_BODY, channel);
    w.bytes(from === 0 && chunk >= body.length ? body : body.subarray(from, from + chunk));
    endFrame(w, at);
  }
}

export function encodeRawFrame(raw: RawFrame): Buffer {
  const out = Buffer.allocUnsafe(raw.payload.length + FRAME_OVERHEAD_BYTES);
  out.writeUInt8(raw.type, 0);
  out.writeUInt16BE(raw.channel, 1);
  out.writeUInt32BE(raw.payload.length, 3);
  raw.payload.copy(out, FRAME_HEADER_BYTES);
  out.writeUInt8(FRAME_END, out.length - 1);
  return out;
}

/** A heartbeat frame, the same 8 bytes every time. */
export const HEARTBEAT_FRAME_BYTES: Buffer = encodeRawFrame({
  type: FRAME_HEARTBEAT,
  channel: 0,
  payload: Buffer.alloc(0),
});

/** Cuts a message body into body frames that each fit in frameMax (0 means unlimited). */
export function splitBody(channel: number, body: Buffer, frameMax: number): BodyFrame[] {
  if (frameMax !== 0 && frameMax <= FRAME_OVERHEAD_BYTES)
    throw new RangeError(`frame_max ${frameMax} is too small`);
  const chunk = frameMax === 0 ? Math.max(body.length, 1) : frameMax - FRAME_OVERHEAD_BYTES;
  const frames: BodyFrame[] = [];
  for (let at = 0; at < body.length; at += chunk) {
    frames.push({ type: "body", channel, payload: body.subarray(at, at + chunk) });
  }
  return frames;
}
