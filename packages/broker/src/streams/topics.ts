// The topic registry: definitions in the meta store, one FileLog per partition under <data-dir>/topics.
// Invariant: a topic is visible only once its definition is durable and every partition log is open.

import { randomUUID } from "node:crypto";
import { join } from "node:path";
import {
  BrokerError,
  Burst,
  type Clock,
  type Fs,
  isBrokerError,
  LIMITS,
  type Logger,
  type TimerHandle,
} from "../lib/index.ts";
import {
  type DamageWatch,
  FileLog,
  type FsyncPolicy,
  type LogCleaner,
  OpenFiles,
  removeLogFiles,
  type TransactionView,
} from "../log/index.ts";
import type { MetaStore } from "../meta/index.ts";
import { Partition } from "./partition.ts";
import {
  applyConfigChanges,
  compactionOf,
  DEFAULT_TOPIC_CONFIG,
  type TopicConfig,
  toLogConfig,
} from "./topic-config.ts";
import { topicNameProblem } from "./topic-name.ts";

const KIND = "topic";

export interface TopicDefinition {
  name: string;
  topicId: string;
  partitions: number;
  config: TopicConfig;
}

export interface Topic {
  readonly def: TopicDefinition;
  readonly partitions: Partition[];
}

export interface TopicsOptions {
  fs: Fs;
  dataDir: string;
  meta: MetaStore;
  clock: Clock;
  logger: Logger;
  fsync: FsyncPolicy;
  autoCreate: boolean;
  defaultPartitions: number;
  /** how often retention runs over every partition */
  retentionCheckMs: number;
  /** counts damage in partition logs and verifies them in the background */
  watch?: DamageWatch;
  /** open segment files shared with the broker's other logs, and the budget of logs; own one when absent */
  files?: OpenFiles;
  /** cleans the partitions of compacted topics; none: compaction is not run */
  cleaner?: LogCleaner;
}

export class Topics {
  private readonly topics = new Map<string, Topic>();
  /** the same topics by id (Kafka Fetch v13+ names topics by id) */
  private readonly ids = new Map<string, Topic>();
  /** creations in flight, so concurrent auto-creates of one name share one creation */
  private readonly creating = new Map<string, Promise<Topic>>();
  private retentionTimer: TimerHandle | undefined;
  private retentionRunning = false;
  private readonly files: OpenFiles;
  private readonly autoCreateRefused: Burst;
  /** a partition's transactions for its cleaner; set once the transaction coordinator is open */
  transactionView: ((topicId: string, partition: number) => TransactionView) | undefined;

  private constructor(readonly opts: TopicsOptions) {
    this.files = opts.files ?? OpenFiles.unshared(opts.logger);
    this.autoCreateRefused = new Burst(opts.clock);
  }

  static async open(opts: TopicsOptions): Promise<Topics> {
    const topics = new Topics(opts);
    for (const [, value] of opts.meta.list(KIND)) {
      const stored = value as TopicDefinition;
      // configs added since the topic was stored take their defaults
      const def = { ...stored, config: { ...DEFAULT_TOPIC_CONFIG, ...stored.config } };
      // Partitions on disk are opened whatever the budget says now: a broker that started once starts again.
      topics.files.claimLogs(def.partitions, `topic ${def.name}`, true);
      topics.add(await topics.openTopic(def));
    }
    topics.retentionTimer = opts.clock.setRepeating(opts.retentionCheckMs, () => void topics.runRetention());
    return topics;
  }

  get autoCreate(): boolean {
    return this.opts.autoCreate;
  }

  get(name: string): Topic | undefined {
    return this.topics.get(name);
  }

  /** The topic whose id (an RFC 4122 string) this is. */
  byId(topicId: string): Topic | undefined {
    return this.ids.get(topicId);
  }

  private add(topic: Topic): void {
    this.topics.set(topic.def.name, topic);
    this.ids.set(topic.def.topicId, topic);
  }

  list(): Topic[] {
    return [...this.topics.values()];
  }

  partition(name: string, index: number): Partition | undefined {
    return this.topics.get(name)?.partitions[index];
  }

  /**
   * The topic, created with defaults when auto-create is on; undefined when it does not exist. Every
   * caller waiting on one creation awaits the same promise, so they resume in the order they asked.
   */
  getOrAutoCreate(name: string): Topic | Promise<Topic> | undefined {
    const t = this.topics.get(name) ?? this.creating.get(name);
    if (t !== undefined) return t;
    if (!this.opts.autoCreate || topicNameProblem(name) !== null) return undefined;
    const creation = this.startCreate(name, this.opts.defaultPartitions, []);
    creation.catch((err: unknown) => {
      // the client only hears UNKNOWN_TOPIC_OR_PARTITION: the operator must hear why
      if (isBrokerError(err, "RESOURCE_LIMIT") && this.autoCreateRefused.hit()) {
        this.opts.logger.warn({ topic: name }, `topic not auto-created: ${err.message}`);
      }
    });
    return creation;
  }

  async create(
    name: string,
    partitions: number,
    configs: ReadonlyArray<readonly [string, string | null]>,
    validateOnly = false,
  ): Promise<Topic> {
    return this.startCreate(name, partitions, configs, validateOnly);
  }

  private startCreate(
    name: string,
    partitions: number,
    configs: ReadonlyArray<readonly [string, string | null]>,
    validateOnly = false,
  ): Promise<Topic> {
    const problem = topicNameProblem(name);
    if (problem) return Promise.reject(new BrokerError("INVALID_NAME", problem));
    if (this.topics.has(name) || this.creating.has(name)) {
      return Promise.reject(new BrokerError("ALREADY_EXISTS", `topic ${name} already exists`));
    }
    let def: TopicDefinition;
    try {
      checkPartitionCount(partitions);
      const config = applyConfigChanges(DEFAULT_TOPIC_CONFIG, configs);
      def = { name, topicId: randomUUID(), partitions, config };
    } catch (e) {
      return Promise.reject(e);
    }
    const what = `topic ${name}`;
    try {
      if (validateOnly) this.files.checkLogs(partitions, what);
      else this.files.claimLogs(partitions, what);
    } catch (e) {
      return Promise.reject(e);
    }
    if (validateOnly) return Promise.resolve({ def, partitions: [] });
    const creation = (async () => {
      try {
        await this.opts.meta.put(KIND, name, def);
        const topic = await this.openTopic(def);
        this.add(topic);
        return topic;
      } catch (e) {
        this.files.releaseLogs(partitions);
        throw e;
      } finally {
        this.creating.delete(name);
      }
    })();
    this.creating.set(name, creation);
    return creation;
  }

  async delete(name: string): Promise<void> {
    const topic = this.requireTopic(name);
    this.topics.delete(name);
    this.ids.delete(topic.def.topicId);
    this.files.releaseLogs(topic.def.partitions);
    await this.opts.meta.delete(KIND, name);
    for (const p of topic.partitions) {
      if (p.log instanceof FileLog) this.opts.cleaner?.remove(p.log);
      await p.log.close();
      await removeLogFiles(this.opts.fs, this.partitionDir(name, p.index));
    }
  }

  async addPartitions(name: string, total: number, validateOnly = false): Promise<void> {
    const topic = this.requireTopic(name);
    if (total <= topic.def.partitions) {
      throw new BrokerError(
        "INVALID_PARTITIONS",
        `topic ${name} has ${topic.def.partitions} partitions; ask for more`,
      );
    }
    checkPartitionCount(total);
    const added = total - topic.def.partitions;
    if (validateOnly) {
      this.files.checkLogs(added, `topic ${name}`);
      return;
    }
    this.files.claimLogs(added, `topic ${name}`);
    const def = { ...topic.def, partitions: total };
    try {
      await this.opts.meta.put(KIND, name, def);
      for (let i = topic.def.partitions; i < total; i++)
        topic.partitions.push(await this.openPartition(topic, i));
    } catch (e) {
      this.files.releaseLogs(total - topic.partitions.length);
      throw e;
    }
    Object.assign(topic, { def });
  }

  async alterConfig(
    name: string,
    changes: ReadonlyArray<readonly [string, string | null]>,
    validateOnly = false,
  ): Promise<void> {
    const topic = this.requireTopic(name);
    const config = applyConfigChanges(topic.def.config, changes);
    if (validateOnly) return;
    const def = { ...topic.def, config };
    await this.opts.meta.put(KIND, name, def);
    Object.assign(topic, { def });
    for (const p of topic.partitions) toLogConfig(config, this.opts.fsync, p.logConfig);
    // A tighter retention applies now, not at the next scheduled check.
    for (const p of topic.partitions) await this.retain(name, p);
  }

  /** Runs retention on every partition now (the timer calls this too). */
  async runRetention(): Promise<number> {
    if (this.retentionRunning) return 0;
    this.retentionRunning = true;
    let deleted = 0;
    try {
      for (const topic of this.list()) {
        for (const p of topic.partitions) deleted += await this.retain(topic.def.name, p);
      }
    } finally {
      this.retentionRunning = false;
    }
    return deleted;
  }

  /** Retention of one partition; a failure (e.g. EIO deleting a segment) is logged, and tried again next time. */
  private async retain(topic: string, p: Partition): Promise<number> {
    try {
      return await p.log.enforceRetention();
    } catch (err) {
      this.opts.logger.error(
        { err, topic, partition: p.index },
        "retention failed; retried at the next check",
      );
      return 0;
    }
  }

  async close(): Promise<void> {
    this.opts.clock.clearTimer(this.retentionTimer);
    await Promise.allSettled([...this.creating.values()]);
    for (const t of this.topics.values()) await Promise.allSettled(t.partitions.map((p) => p.log.close()));
    this.topics.clear();
  }

  private requireTopic(name: string): Topic {
    const topic = this.topics.get(name);
    if (topic === undefined) throw new BrokerError("NOT_FOUND", `topic ${name} does not exist`);
    return topic;
  }

  private partitionDir(name: string, index: number): string {
    return join(this.opts.dataDir, "topics", `${name}-${index}`);
  }

  private async openTopic(def: TopicDefinition): Promise<Topic> {
    const topic: Topic = { def, partitions: [] };
    for (let i = 0; i < def.partitions; i++) topic.partitions.push(await this.openPartition(topic, i));
    return topic;
  }

  /** `topic.def` is read at use time: the cleaner follows config changes (cleanup.policy included). */
  private async openPartition(topic: Topic, index: number): Promise<Partition> {
    const { fs, clock, logger, fsync } = this.opts;
    const def = topic.def;
    const config = toLogConfig(def.config, fsync);
    const dir = this.partitionDir(def.name, index);
    const log = await FileLog.open({ fs, dir, config, clock, logger, ...this.opts.watch, files: this.files });
    this.opts.cleaner?.add(log, () =>
      compactionOf(topic.def.config, this.transactionView?.(topic.def.topicId, index)),
    );
    const partition = new Partition(def.name, index, log, config);
    await partition.recoverProducers().catch((err: unknown) => {
      logger.warn({ err, topic: def.name, partition: index }, "could not rebuild producer state");
    });
    return partition;
  }
}

function checkPartitionCount(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > LIMITS.partitionsPerTopicMax) {
    throw new BrokerError(
      "INVALID_PARTITIONS",
      `partition count ${n} must be from 1 to ${LIMITS.partitionsPerTopicMax}`,
    );
  }
}
