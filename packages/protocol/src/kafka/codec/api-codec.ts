// The shape of one Kafka API in the generated registry: version range and request/response codecs.
// Invariant: request and response share validVersions and flexibleVersions (true of every Kafka spec).

import type { KafkaReader } from "./reader.ts";
import { KafkaWriter } from "./writer.ts";

export interface KafkaApiCodec<Req = unknown, Res = unknown> {
  readonly apiKey: number;
  /** the message name without Request/Response, e.g. "Produce" */
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  /** first flexible version (compact types, tagged fields, header v2/v1), or null if none is */
  readonly flexibleMin: number | null;
  /** Kafka marks its newest version unstable while a KIP is in progress; do not advertise it */
  readonly latestVersionUnstable: boolean;
  /** which Kafka roles serve it: "broker", "controller", "zkBroker" */
  readonly listeners: readonly string[];
  writeRequest(w: KafkaWriter, version: number, msg: Req): void;
  encodeRequest(version: number, msg: Req): Buffer;
  decodeRequest(version: number, input: Buffer | KafkaReader): Req;
  writeResponse(w: KafkaWriter, version: number, msg: Res): void;
  encodeResponse(version: number, msg: Res): Buffer;
  decodeResponse(version: number, input: Buffer | KafkaReader): Res;
}

export interface ApiDescription {
  apiKey: number;
  name: string;
  minVersion: number;
  maxVersion: number;
  flexibleMin: number | null;
  latestVersionUnstable: boolean;
  listeners: readonly string[];
}

type Write<T> = (w: KafkaWriter, version: number, msg: T) => void;
type Read<T> = (version: number, input: Buffer | KafkaReader) => T;

/** Builds a registry entry from the generated write/decode functions of one request/response pair. */
export function defineApi<Req, Res>(
  d: ApiDescription,
  writeRequest: Write<Req>,
  decodeRequest: Read<Req>,
  writeResponse: Write<Res>,
  decodeResponse: Read<Res>,
): KafkaApiCodec<Req, Res> {
  const encode =
    <T>(write: Write<T>) =>
    (version: number, msg: T): Buffer => {
      const w = new KafkaWriter();
      write(w, version, msg);
      return w.finish();
    };
  return {
    ...d,
    writeRequest,
    encodeRequest: encode(writeRequest),
    decodeRequest,
    writeResponse,
    encodeResponse: encode(writeResponse),
    decodeResponse,
  };
}

export const isFlexible = (api: Pick<KafkaApiCodec, "flexibleMin">, version: number): boolean =>
  api.flexibleMin !== null && version >= api.flexibleMin;
