// ApiVersions: the versions this broker serves, built from the handler registry so it cannot drift.
// Invariant: every advertised (key, min, max) is exactly a registered handler's declared range.

import { type ApiVersionsResponse, KafkaErrorCode, kafkaApis } from "@spindle/protocol";
import { defineHandler, type KafkaHandler } from "../handler.ts";

export function apiVersionsBody(handlers: Iterable<KafkaHandler>, errorCode: number): ApiVersionsResponse {
  const apiKeys = [...handlers]
    .map((h) => ({ apiKey: h.api.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion }))
    .sort((a, b) => a.apiKey - b.apiKey);
  return { errorCode, apiKeys, throttleTimeMs: 0 };
}

/** `all` is read at request time: the registry includes this handler itself. */
export function apiVersionsHandler(all: () => Iterable<KafkaHandler>): KafkaHandler {
  return defineHandler(kafkaApis[18], 0, 4, () => apiVersionsBody(all(), KafkaErrorCode.NONE));
}
