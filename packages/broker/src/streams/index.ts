// streams/: topics, partitions, consumer groups, committed offsets and producer ids. No wire types here;
// the Kafka gateway translates. Never imports queues/.

export { Group } from "./group.ts";
export { groupLag, type PartitionLag, totalLag } from "./group-lag.ts";
export {
  DEFAULT_GROUP_TIMINGS,
  type GroupError,
  type GroupState,
  type GroupTimings,
  type JoinRequest,
  type JoinResult,
  type MemberView,
  type SyncResult,
} from "./group-types.ts";
export { type CommittedOffset, type GroupListing, Groups, type GroupsOptions, groupsDir } from "./groups.ts";
export { Partition } from "./partition.ts";
export { murmur2, Partitioner, partitionForKey } from "./partitioner.ts";
export {
  type ProducedOffset,
  type ProduceOptions,
  produceRecords,
  type RecordToProduce,
} from "./produce-records.ts";
export { ProducerIds } from "./producer-ids.ts";
export { type BatchIdentity, ProducerState, type SequenceOutcome } from "./producer-state.ts";
export { type RecordPage, readRecords, type StoredRecord } from "./read-records.ts";
export {
  applyConfigChanges,
  CONFIG_NAMES,
  type ConfigEntry,
  DEFAULT_TOPIC_CONFIG,
  describeConfig,
  type TopicConfig,
} from "./topic-config.ts";
export { topicNameProblem } from "./topic-name.ts";
export { type Topic, type TopicDefinition, Topics, type TopicsOptions } from "./topics.ts";
export { StreamTraffic } from "./traffic.ts";
export * from "./transactions/index.ts";
