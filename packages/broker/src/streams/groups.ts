// Consumer groups and their committed offsets: live groups in memory, offsets in their own MetaStore.
// Invariant: a commit is answered only once it is durable, and committed offsets survive a restart.

import { join } from "node:path";
import { BrokerError, type Clock, type Fs, isBrokerError, type Logger } from "../lib/index.ts";
import type { DamageWatch, FsyncPolicy } from "../log/index.ts";
import { MetaStore } from "../meta/index.ts";
import { Group } from "./group.ts";
import type { GroupError, GroupState, GroupTimings } from "./group-types.ts";

const GROUP_KIND = "group";
const offsetKind = (groupId: string) => `offsets/${groupId}`;
/** Topic names have no ':', so `partition:topic` splits back unambiguously. */
const offsetKey = (topic: string, partition: number) => `${partition}:${topic}`;

export interface CommittedOffset {
  topic: string;
  partition: number;
  offset: number;
  metadata: string | null;
}

interface StoredOffset {
  offset: number;
  metadata: string | null;
  commitTimestampMs: number;
}

export interface GroupListing {
  groupId: string;
  protocolType: string;
  state: GroupState;
}

export interface GroupsOptions {
  fs: Fs;
  dir: string;
  clock: Clock;
  logger: Logger;
  fsync: FsyncPolicy;
  timings: GroupTimings;
  /** counts damage in the committed-offsets log */
  watch?: DamageWatch;
}

export class Groups {
  private readonly live = new Map<string, Group>();

  private constructor(
    private readonly opts: GroupsOptions,
    private readonly store: MetaStore,
  ) {}

  static async open(opts: GroupsOptions): Promise<Groups> {
    const store = await MetaStore.open({
      fs: opts.fs,
      dir: opts.dir,
      clock: opts.clock,
      logger: opts.logger,
      fsync: opts.fsync,
      snapshotEvery: 10_000,
      ...(opts.watch ? { watch: opts.watch } : {}),
    });
    return new Groups(opts, store);
  }

  /** The live group, created empty on first use. */
  group(groupId: string): Group {
    let g = this.live.get(groupId);
    if (g === undefined) {
      g = new Group(groupId, this.opts.timings, this.opts.clock);
      this.live.set(groupId, g);
    }
    return g;
  }

  find(groupId: string): Group | undefined {
    return this.live.get(groupId);
  }

  exists(groupId: string): boolean {
    return this.live.has(groupId) || this.store.get(GROUP_KIND, groupId) !== undefined;
  }

  async commit(
    groupId: string,
    generationId: number,
    memberId: string,
    offsets: readonly CommittedOffset[],
    groupInstanceId: string | null = null,
  ): Promise<GroupError> {
    const g = this.live.get(groupId);
    const check = g
      ? g.checkCommit(generationId, memberId, groupInstanceId)
      : generationId < 0
        ? "NONE"
        : "UNKNOWN_MEMBER_ID";
    if (check !== "NONE") return check;
    return this.storeOffsets(groupId, offsets);
  }

  /**
   * Writes offsets a transaction committed (TxnOffsetCommit checked the member when they were sent; the
   * transaction's commit makes them visible). Durable once resolved; a full disk rejects, to be retried.
   */
  async commitTransactional(groupId: string, offsets: readonly CommittedOffset[]): Promise<void> {
    const outcome = await this.storeOffsets(groupId, offsets);
    if (outcome !== "NONE") throw new BrokerError("DISK_FULL", `offsets of group ${groupId} not stored`);
  }

  private async storeOffsets(groupId: string, offsets: readonly CommittedOffset[]): Promise<GroupError> {
    const now = this.opts.clock.nowMs();
    const changes = offsets.map((o) => ({
      kind: offsetKind(groupId),
      key: offsetKey(o.topic, o.partition),
      value: { offset: o.offset, metadata: o.metadata, commitTimestampMs: now } satisfies StoredOffset,
    }));
    if (this.store.get(GROUP_KIND, groupId) === undefined) {
      changes.push({ kind: GROUP_KIND, key: groupId, value: { createdMs: now } as never });
    }
    try {
      await this.store.apply(changes);
    } catch (e) {
      // a full disk: the commit is not durable; clients retry COORDINATOR_NOT_AVAILABLE after a back-off
      if (isBrokerError(e, "DISK_FULL")) return "COORDINATOR_NOT_AVAILABLE";
      throw e;
    }
    return "NONE";
  }

  /**
   * Sets committed offsets from outside the protocol (an operator's reset), as an admin client's commit
   * with generation -1: only while the group has no live members, whose next commits would overwrite
   * them. The check and the commit's own check happen in one synchronous step. Durable once resolved.
   */
  alterOffsets(groupId: string, offsets: readonly CommittedOffset[]): Promise<GroupError> {
    if ((this.live.get(groupId)?.size ?? 0) > 0) return Promise.resolve("NON_EMPTY_GROUP");
    return this.commit(groupId, -1, "", offsets);
  }

  committed(groupId: string, topic: string, partition: number): CommittedOffset | undefined {
    const v = this.store.get(offsetKind(groupId), offsetKey(topic, partition)) as StoredOffset | undefined;
    return v && { topic, partition, offset: v.offset, metadata: v.metadata };
  }

  committedAll(groupId: string): CommittedOffset[] {
    return this.store.list(offsetKind(groupId)).map(([key, value]) => {
      const at = key.indexOf(":");
      const v = value as StoredOffset;
      return {
        topic: key.slice(at + 1),
        partition: Number(key.slice(0, at)),
        offset: v.offset,
        metadata: v.metadata,
      };
    });
  }

  list(): GroupListing[] {
    const out = new Map<string, GroupListing>();
    for (const [groupId] of this.store.list(GROUP_KIND))
      out.set(groupId, { groupId, protocolType: "consumer", state: "Empty" });
    for (const g of this.live.values()) {
      if (g.state === "Dead") continue;
      out.set(g.groupId, { groupId: g.groupId, protocolType: g.protocolType ?? "consumer", state: g.state });
    }
    return [...out.values()];
  }

  /** Deletes an empty group and its committed offsets. */
  async delete(groupId: string): Promise<GroupError> {
    const g = this.live.get(groupId);
    if (g !== undefined && g.size > 0) return "NON_EMPTY_GROUP";
    if (!this.exists(groupId)) return "GROUP_ID_NOT_FOUND";
    const changes = this.store
      .list(offsetKind(groupId))
      .map(([key]) => ({ kind: offsetKind(groupId), key, value: null }));
    changes.push({ kind: GROUP_KIND, key: groupId, value: null });
    await this.store.apply(changes);
    this.live.delete(groupId);
    return "NONE";
  }

  /** Deletes some committed offsets of a group that has no live members. */
  async deleteOffsets(
    groupId: string,
    partitions: readonly { topic: string; partition: number }[],
  ): Promise<GroupError> {
    if (!this.exists(groupId)) return "GROUP_ID_NOT_FOUND";
    if ((this.live.get(groupId)?.size ?? 0) > 0) return "NON_EMPTY_GROUP";
    const kind = offsetKind(groupId);
    const changes = partitions.map((p) => ({ kind, key: offsetKey(p.topic, p.partition), value: null }));
    await this.store.apply(changes.filter((c) => this.store.get(c.kind, c.key) !== undefined));
    return "NONE";
  }

  /** Drops committed offsets of a deleted topic from every group. */
  async forgetTopic(topic: string): Promise<void> {
    const changes = [];
    for (const [groupId] of this.store.list(GROUP_KIND)) {
      for (const o of this.committedAll(groupId)) {
        if (o.topic === topic)
          changes.push({ kind: offsetKind(groupId), key: offsetKey(topic, o.partition), value: null });
      }
    }
    await this.store.apply(changes);
  }

  async close(): Promise<void> {
    for (const g of this.live.values()) g.shutdown();
    this.live.clear();
    await this.store.close();
  }
}

export function groupsDir(dataDir: string): string {
  return join(dataDir, "offsets");
}
