// DescribeConfigs and IncrementalAlterConfigs for topics (retention.ms, retention.bytes, segment.bytes, …).
// Invariant: an alteration is validated whole and stored durably before it is answered, or not applied at all.

import {
  type IncrementalAlterConfigsRequestAlterConfigsResource as AlterResource,
  KafkaErrorCode,
  kafkaApis,
  type AlterConfigsRequestAlterConfigsResource as ReplaceResource,
} from "@spindle/protocol";
import { CONFIG_NAMES, describeConfig } from "../../../streams/index.ts";
import { kafkaError } from "../error-map.ts";
import { defineHandler, type RequestContext } from "../handler.ts";

const TOPIC = 2;
const BROKER = 4;
const SET = 0;
const DELETE = 1;
/** DescribeConfigs config sources */
const DYNAMIC_TOPIC_CONFIG = 1;
const DEFAULT_CONFIG = 5;

export const describeConfigsHandler = defineHandler(kafkaApis[32], 0, 4, (req, ctx) => {
  const results = req.resources.map((r) => {
    const base = { resourceType: r.resourceType, resourceName: r.resourceName, errorMessage: null };
    if (r.resourceType === BROKER) return { ...base, errorCode: KafkaErrorCode.NONE, configs: [] };
    if (r.resourceType !== TOPIC) return { ...base, errorCode: KafkaErrorCode.INVALID_REQUEST, configs: [] };
    const topic = ctx.broker.topics.get(r.resourceName);
    if (!topic) return { ...base, errorCode: KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION, configs: [] };
    const keys = r.configurationKeys;
    const configs = describeConfig(topic.def.config)
      .filter((c) => keys === null || keys.includes(c.name))
      .map((c) => ({
        name: c.name,
        value: c.value,
        readOnly: false,
        isDefault: c.isDefault,
        configSource: c.isDefault ? DEFAULT_CONFIG : DYNAMIC_TOPIC_CONFIG,
        isSensitive: false,
        synonyms: [],
        configType: 0,
        documentation: null,
      }));
    return { ...base, errorCode: KafkaErrorCode.NONE, configs };
  });
  return { throttleTimeMs: 0, results };
});

type ConfigChange = readonly [name: string, value: string | null];

/** Applies one resource's changes (null = back to default) and answers it; only topics can be altered. */
async function alterTopic(
  r: { resourceType: number; resourceName: string },
  changes: () => ConfigChange[] | string,
  validateOnly: boolean,
  ctx: RequestContext,
) {
  const base = { resourceType: r.resourceType, resourceName: r.resourceName };
  const invalid = (errorMessage: string) => ({
    ...base,
    errorCode: KafkaErrorCode.INVALID_REQUEST,
    errorMessage,
  });
  if (r.resourceType !== TOPIC) return invalid("only topic configs can be altered");
  const list = changes();
  if (typeof list === "string") return invalid(list);
  try {
    await ctx.broker.topics.alterConfig(r.resourceName, list, validateOnly);
    return { ...base, errorCode: KafkaErrorCode.NONE, errorMessage: null };
  } catch (e) {
    const { code, message } = kafkaError(e);
    return { ...base, errorCode: code, errorMessage: message };
  }
}

/** IncrementalAlterConfigs: SET and DELETE of the named configs; the others stay as they are. */
function incrementalChanges(r: AlterResource): ConfigChange[] | string {
  const unsupported = r.configs.find((c) => c.configOperation !== SET && c.configOperation !== DELETE);
  if (unsupported) return `${unsupported.name}: only SET and DELETE apply to these configs`;
  return r.configs.map((c) => [c.name, c.configOperation === DELETE ? null : c.value] as const);
}

export const incrementalAlterConfigsHandler = defineHandler(kafkaApis[44], 0, 1, async (req, ctx) => {
  const responses = [];
  for (const r of req.resources) {
    responses.push(await alterTopic(r, () => incrementalChanges(r), req.validateOnly, ctx));
  }
  return { throttleTimeMs: 0, responses };
});

/** AlterConfigs (the older, non-incremental API): the given set replaces every topic config. */
function replacingChanges(r: ReplaceResource): ConfigChange[] {
  const given = new Map(r.configs.map((c) => [c.name, c.value]));
  const unknown = [...given.keys()].filter((n) => CONFIG_NAMES[n] === undefined);
  return [...Object.keys(CONFIG_NAMES), ...unknown].map((n) => [n, given.get(n) ?? null] as const);
}

export const alterConfigsHandler = defineHandler(kafkaApis[33], 0, 2, async (req, ctx) => {
  const responses = [];
  for (const r of req.resources) {
    responses.push(await alterTopic(r, () => replacingChanges(r), req.validateOnly, ctx));
  }
  return { throttleTimeMs: 0, responses };
});
