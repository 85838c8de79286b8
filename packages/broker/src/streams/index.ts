// streams/: topics, partitions, consumer groups, committed offsets and producer ids. No wire types here;
// the Kafka gateway translates. Never imports queues/.
export { Partition } from "./partition.ts";
export {
  applyConfigChanges,
  type ConfigEntry,
  DEFAULT_TOPIC_CONFIG,
  describeConfig,
  type TopicConfig,
} from "./topic-config.ts";
export { topicNameProblem } from "./topic-name.ts";
export { PARTITIONS_MAX, type Topic, type TopicDefinition, Topics, type TopicsOptions } from "./topics.ts";
