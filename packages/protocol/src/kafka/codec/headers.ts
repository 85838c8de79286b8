// Kafka request headers (v0-v2) and response headers (v0-v1), and which version an API version uses.
// Invariant: client id is a classic nullable string in every header version, even the flexible v2.

import { getKafkaApi } from "../generated/index.ts";
import { KafkaReader, readTaggedFields, type Tagged } from "./reader.ts";
import { KafkaWriter, writeTaggedFields } from "./writer.ts";

const API_VERSIONS_KEY = 18;
const CONTROLLED_SHUTDOWN_KEY = 7;

export interface RequestHeader extends Tagged {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  /** absent in header v0 */
  clientId: string | null;
}

export interface ResponseHeader extends Tagged {
  correlationId: number;
}

/** 2 for flexible API versions, else 1 (0 only for ControlledShutdown v0); undefined for an unknown API. */
export function requestHeaderVersion(apiKey: number, apiVersion: number): number | undefined {
  const api = getKafkaApi(apiKey);
  if (api === undefined) return undefined;
  if (api.flexibleMin !== null && apiVersion >= api.flexibleMin) return 2;
  if (apiKey === CONTROLLED_SHUTDOWN_KEY && apiVersion === 0) return 0;
  return 1;
}

/** 1 for flexible API versions, else 0; ApiVersions always answers with v0 so old clients can parse it. */
export function responseHeaderVersion(apiKey: number, apiVersion: number): number | undefined {
  const api = getKafkaApi(apiKey);
  if (api === undefined) return undefined;
  if (apiKey === API_VERSIONS_KEY) return 0;
  return api.flexibleMin !== null && apiVersion >= api.flexibleMin ? 1 : 0;
}

export function readRequestHeader(r: KafkaReader, headerVersion: number): RequestHeader {
  const h: RequestHeader = {
    apiKey: r.int16(),
    apiVersion: r.int16(),
    correlationId: r.int32(),
    clientId: headerVersion >= 1 ? r.nullableString() : null,
  };
  if (headerVersion >= 2) readTaggedFields(r, headerVersion, h, null);
  return h;
}

/**
 * Reads the header of a request frame (the bytes after the 4-byte size) whose header version follows
 * from its own apiKey and apiVersion. An unknown apiKey is read as header v1 so the caller can answer.
 */
export function decodeRequestHeader(input: Buffer | KafkaReader): RequestHeader {
  const r = input instanceof KafkaReader ? input : new KafkaReader(input);
  if (r.remaining() < 4) throw new RangeError("request header is truncated");
  const apiKey = r.buf.readInt16BE(r.pos);
  const apiVersion = r.buf.readInt16BE(r.pos + 2);
  return readRequestHeader(r, requestHeaderVersion(apiKey, apiVersion) ?? 1);
}

export function writeRequestHeader(w: KafkaWriter, headerVersion: number, h: RequestHeader): void {
  w.int16(h.apiKey);
  w.int16(h.apiVersion);
  w.int32(h.correlationId);
  if (headerVersion >= 1) w.nullableString(h.clientId);
  if (headerVersion >= 2) writeTaggedFields(w, undefined, h._unknownTaggedFields);
}

export function readResponseHeader(r: KafkaReader, headerVersion: number): ResponseHeader {
  const h: ResponseHeader = { correlationId: r.int32() };
  if (headerVersion >= 1) readTaggedFields(r, headerVersion, h, null);
  return h;
}

export function writeResponseHeader(w: KafkaWriter, headerVersion: number, h: ResponseHeader): void {
  w.int32(h.correlationId);
  if (headerVersion >= 1) writeTaggedFields(w, undefined, h._unknownTaggedFields);
}

export function encodeRequestHeader(headerVersion: number, h: RequestHeader): Buffer {
  const w = new KafkaWriter(64);
  writeRequestHeader(w, headerVersion, h);
  return w.finish();
}

export function encodeResponseHeader(headerVersion: number, h: ResponseHeader): Buffer {
  const w = new KafkaWriter(16);
  writeResponseHeader(w, headerVersion, h);
  return w.finish();
}
