// One consumer group under the classic protocol: members, generations, join/sync barriers, session expiry.
// Invariant: a generation's assignment is handed out only to members of that generation; a member that
// misses its session timeout is removed and the rest rebalance.

import { randomUUID } from "node:crypto";
import type { Clock, TimerHandle } from "../lib/index.ts";
import type {
  GroupError,
  GroupState,
  GroupTimings,
  JoinRequest,
  JoinResult,
  MemberView,
  SyncResult,
} from "./group-types.ts";

interface Member extends Omit<JoinRequest, "protocolType"> {
  assignment: Buffer;
  pendingJoin: ((r: JoinResult) => void) | null;
  pendingSync: ((r: SyncResult) => void) | null;
  sessionTimer: TimerHandle | undefined;
}

const EMPTY = Buffer.alloc(0);

export class Group {
  state: GroupState = "Empty";
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  private readonly members = new Map<string, Member>();
  private rebalanceTimer: TimerHandle | undefined;
  /** the first rebalance of an empty group waits a little for the rest of its members */
  private initialDelay = false;

  constructor(
    readonly groupId: string,
    private readonly timings: GroupTimings,
    private readonly clock: Clock,
  ) {}

  get size(): number {
    return this.members.size;
  }

  join(req: JoinRequest): Promise<JoinResult> {
    const bad = this.checkJoin(req);
    if (bad !== "NONE") return Promise.resolve(this.joinError(bad, req.memberId));
    const rejoined = this.staticRejoin(req);
    if (rejoined) return Promise.resolve(rejoined);
    let member = req.memberId === "" ? undefined : this.members.get(req.memberId);
    if (req.memberId !== "" && member === undefined) {
      const staticOwner = this.byInstanceId(req.groupInstanceId);
      if (staticOwner === undefined)
        return Promise.resolve(this.joinError("UNKNOWN_MEMBER_ID", req.memberId));
    }
    if (member === undefined) member = this.addMember(req);
    member.protocols = req.protocols;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    this.protocolType ??= req.protocolType;
    const joined = member;
    const result = new Promise<JoinResult>((resolve) => {
      joined.pendingJoin = resolve;
    });
    this.touch(joined);
    if (this.state !== "PreparingRebalance") this.prepareRebalance();
    else this.maybeCompleteJoin();
    return result;
  }

  sync(
    generationId: number,
    memberId: string,
    assignments: { memberId: string; assignment: Buffer }[],
  ): Promise<SyncResult> {
    const m = this.members.get(memberId);
    if (m === undefined) return Promise.resolve(this.syncResult("UNKNOWN_MEMBER_ID"));
    if (generationId !== this.generationId) return Promise.resolve(this.syncResult("ILLEGAL_GENERATION"));
    if (this.state === "PreparingRebalance") return Promise.resolve(this.syncResult("REBALANCE_IN_PROGRESS"));
    this.touch(m);
    if (this.state === "Stable") return Promise.resolve(this.syncResult("NONE", m.assignment));
    const result = new Promise<SyncResult>((resolve) => {
      m.pendingSync = resolve;
    });
    if (memberId === this.leaderId) {
      const byMember = new Map(assignments.map((a) => [a.memberId, a.assignment]));
      for (const member of this.members.values()) member.assignment = byMember.get(member.memberId) ?? EMPTY;
      this.state = "Stable";
      this.clock.clearTimer(this.rebalanceTimer);
      for (const member of this.members.values()) {
        member.pendingSync?.(this.syncResult("NONE", member.assignment));
        member.pendingSync = null;
      }
    }
    return result;
  }

  heartbeat(generationId: number, memberId: string): GroupError {
    const m = this.members.get(memberId);
    if (m === undefined) return "UNKNOWN_MEMBER_ID";
    this.touch(m);
    if (this.state === "PreparingRebalance") return "REBALANCE_IN_PROGRESS";
    if (generationId !== this.generationId) return "ILLEGAL_GENERATION";
    return "NONE";
  }

  /** Removes a member (by id, or by static instance id when the id is empty) and rebalances the rest. */
  leave(memberId: string, groupInstanceId: string | null): GroupError {
    const m = memberId !== "" ? this.members.get(memberId) : this.byInstanceId(groupInstanceId);
    if (m === undefined) return "UNKNOWN_MEMBER_ID";
    if (groupInstanceId !== null && m.groupInstanceId !== groupInstanceId) return "FENCED_INSTANCE_ID";
    this.remove(m);
    return "NONE";
  }

  /**
   * Checks an OffsetCommit as Kafka's classic coordinator does (ClassicGroup.validateOffsetCommit). A group
   * preparing a rebalance still takes commits from members of the current generation: they own their
   * partitions until they rejoin, and a consumer that closes commits before it leaves, so two members
   * stopped together would otherwise lose the second one's last commit. Only a group between join and
   * sync refuses, since its members have not learnt their new assignment yet. A commit keeps the member's
   * session alive, as a heartbeat does.
   */
  checkCommit(generationId: number, memberId: string, groupInstanceId: string | null = null): GroupError {
    if (this.state === "Dead") return "COORDINATOR_NOT_AVAILABLE";
    // generation -1: an admin client or a consumer that assigns itself partitions
    if (generationId < 0 && this.state === "Empty") return "NONE";
    if (generationId >= 0 || memberId !== "" || groupInstanceId !== null) {
      const bad = this.checkMember(memberId, groupInstanceId);
      if (bad !== "NONE") return bad;
      if (generationId !== this.generationId) return "ILLEGAL_GENERATION";
    } else return "UNKNOWN_MEMBER_ID"; // no member id: only an empty group takes it
    if (this.state === "CompletingRebalance") return "REBALANCE_IN_PROGRESS";
    const m = this.members.get(memberId);
    if (m !== undefined) this.touch(m);
    return "NONE";
  }

  /** The member exists, and a static member's instance id is held by this member id. */
  private checkMember(memberId: string, groupInstanceId: string | null): GroupError {
    if (groupInstanceId !== null) {
      const owner = this.byInstanceId(groupInstanceId);
      if (owner === undefined) return "UNKNOWN_MEMBER_ID";
      if (owner.memberId !== memberId) return "FENCED_INSTANCE_ID";
    }
    return this.members.has(memberId) ? "NONE" : "UNKNOWN_MEMBER_ID";
  }

  describe(): MemberView[] {
    return [...this.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      metadata: m.protocols.find((p) => p.name === this.protocolName)?.metadata ?? EMPTY,
      assignment: m.assignment,
    }));
  }

  /** Ends every pending request with COORDINATOR_NOT_AVAILABLE; timers stop. */
  shutdown(): void {
    this.clock.clearTimer(this.rebalanceTimer);
    for (const m of this.members.values()) {
      this.clock.clearTimer(m.sessionTimer);
      m.pendingJoin?.(this.joinError("COORDINATOR_NOT_AVAILABLE", m.memberId));
      m.pendingSync?.(this.syncResult("COORDINATOR_NOT_AVAILABLE"));
    }
    this.members.clear();
    this.state = "Dead";
  }

  private checkJoin(req: JoinRequest): GroupError {
    const { sessionTimeoutMinMs, sessionTimeoutMaxMs } = this.timings;
    if (req.sessionTimeoutMs < sessionTimeoutMinMs || req.sessionTimeoutMs > sessionTimeoutMaxMs) {
      return "INVALID_SESSION_TIMEOUT";
    }
    if (req.protocols.length === 0 || req.protocolType === "") return "INCONSISTENT_GROUP_PROTOCOL";
    if (this.members.size > 0 && this.protocolType !== req.protocolType) return "INCONSISTENT_GROUP_PROTOCOL";
    const others = [...this.members.values()].filter((m) => m.memberId !== req.memberId);
    if (others.length > 0 && !this.commonProtocol([...others.map((m) => m.protocols), req.protocols])) {
      return "INCONSISTENT_GROUP_PROTOCOL";
    }
    return "NONE";
  }

  /**
   * A static member (group.instance.id) restarting into a stable group with the same subscription takes
   * over its old member id's place and assignment without a rebalance (KIP-345). A restarting leader
   * still rebalances, because only a fresh join hands it the member list.
   */
  private staticRejoin(req: JoinRequest): JoinResult | null {
    if (req.memberId !== "" || this.state !== "Stable") return null;
    const prev = this.byInstanceId(req.groupInstanceId);
    if (prev === undefined || prev.memberId === this.leaderId) return null;
    const same =
      prev.protocols.length === req.protocols.length &&
      prev.protocols.every(
        (p, i) => p.name === req.protocols[i]?.name && p.metadata.equals(req.protocols[i]?.metadata ?? EMPTY),
      );
    if (!same) return null;
    this.clock.clearTimer(prev.sessionTimer);
    prev.pendingSync?.(this.syncResult("FENCED_INSTANCE_ID"));
    this.members.delete(prev.memberId);
    const m: Member = {
      ...prev,
      memberId: `${req.groupInstanceId}-${randomUUID()}`,
      pendingJoin: null,
      pendingSync: null,
    };
    m.sessionTimeoutMs = req.sessionTimeoutMs;
    m.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    this.members.set(m.memberId, m);
    this.touch(m);
    return this.joined(m.memberId, []);
  }

  private addMember(req: JoinRequest): Member {
    const previous = this.byInstanceId(req.groupInstanceId);
    if (previous !== undefined) {
      // A static member came back under a new member id: it takes over the old one's place.
      previous.pendingJoin?.(this.joinError("FENCED_INSTANCE_ID", previous.memberId));
      previous.pendingSync?.(this.syncResult("FENCED_INSTANCE_ID"));
      this.clock.clearTimer(previous.sessionTimer);
      this.members.delete(previous.memberId);
      if (this.leaderId === previous.memberId) this.leaderId = null;
    }
    const memberId = `${req.groupInstanceId ?? req.clientId}-${randomUUID()}`;
    const m: Member = {
      memberId,
      groupInstanceId: req.groupInstanceId,
      clientId: req.clientId,
      clientHost: req.clientHost,
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      protocols: req.protocols,
      assignment: previous?.assignment ?? EMPTY,
      pendingJoin: null,
      pendingSync: null,
      sessionTimer: undefined,
    };
    this.members.set(memberId, m);
    return m;
  }

  private byInstanceId(id: string | null): Member | undefined {
    if (id === null) return undefined;
    for (const m of this.members.values()) if (m.groupInstanceId === id) return m;
    return undefined;
  }

  /** Restarts the member's session timer: it is removed if nothing is heard from it in time. */
  private touch(m: Member): void {
    this.clock.clearTimer(m.sessionTimer);
    m.sessionTimer = this.clock.setTimer(m.sessionTimeoutMs, () => {
      if (this.members.get(m.memberId) === m && m.pendingJoin === null) this.remove(m);
    });
  }

  private remove(m: Member): void {
    this.clock.clearTimer(m.sessionTimer);
    m.pendingJoin?.(this.joinError("UNKNOWN_MEMBER_ID", m.memberId));
    m.pendingSync?.(this.syncResult("UNKNOWN_MEMBER_ID"));
    this.members.delete(m.memberId);
    if (this.leaderId === m.memberId) this.leaderId = null;
    if (this.members.size === 0) {
      this.clock.clearTimer(this.rebalanceTimer);
      this.state = "Empty";
      this.generationId++;
      this.protocolName = null;
      return;
    }
    if (this.state === "PreparingRebalance") this.maybeCompleteJoin();
    else this.prepareRebalance();
  }

  private prepareRebalance(): void {
    const wasEmpty = this.state === "Empty";
    for (const m of this.members.values()) {
      m.pendingSync?.(this.syncResult("REBALANCE_IN_PROGRESS"));
      m.pendingSync = null;
    }
    this.state = "PreparingRebalance";
    const timeoutMs = Math.max(...[...this.members.values()].map((m) => m.rebalanceTimeoutMs));
    this.initialDelay = wasEmpty;
    const delayMs = wasEmpty ? Math.min(this.timings.initialRebalanceDelayMs, timeoutMs) : timeoutMs;
    this.clock.clearTimer(this.rebalanceTimer);
    this.rebalanceTimer = this.clock.setTimer(delayMs, () => this.completeJoin());
    this.maybeCompleteJoin();
  }

  /** Completes the join barrier once every current member has rejoined. */
  private maybeCompleteJoin(): void {
    if (this.initialDelay) return;
    for (const m of this.members.values()) if (m.pendingJoin === null) return;
    this.completeJoin();
  }

  private completeJoin(): void {
    if (this.state !== "PreparingRebalance") return;
    this.initialDelay = false;
    this.clock.clearTimer(this.rebalanceTimer);
    this.rebalanceTimer = undefined;
    for (const m of [...this.members.values()]) if (m.pendingJoin === null) this.dropSilently(m);
    if (this.members.size === 0) {
      this.state = "Empty";
      return;
    }
    this.generationId++;
    this.protocolName = this.commonProtocol([...this.members.values()].map((m) => m.protocols));
    if (this.leaderId === null || !this.members.has(this.leaderId))
      this.leaderId = this.members.keys().next().value ?? null;
    this.state = "CompletingRebalance";
    this.armSyncDeadline();
    const all = [...this.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.protocols.find((p) => p.name === this.protocolName)?.metadata ?? EMPTY,
    }));
    for (const m of this.members.values()) {
      const resolve = m.pendingJoin;
      m.pendingJoin = null;
      this.touch(m);
      resolve?.(this.joined(m.memberId, m.memberId === this.leaderId ? all : []));
    }
  }

  /**
   * A generation whose leader never sends its SyncGroup would hang every member: after the rebalance
   * timeout, members that have not synced are removed and the rest rebalance.
   */
  private armSyncDeadline(): void {
    const timeoutMs = Math.max(...[...this.members.values()].map((m) => m.rebalanceTimeoutMs));
    const generation = this.generationId;
    this.clock.clearTimer(this.rebalanceTimer);
    this.rebalanceTimer = this.clock.setTimer(timeoutMs, () => {
      if (this.state !== "CompletingRebalance" || this.generationId !== generation) return;
      const laggards = [...this.members.values()].filter((m) => m.pendingSync === null);
      for (const m of laggards) if (this.members.has(m.memberId)) this.remove(m);
    });
  }

  private dropSilently(m: Member): void {
    this.clock.clearTimer(m.sessionTimer);
    m.pendingSync?.(this.syncResult("REBALANCE_IN_PROGRESS"));
    this.members.delete(m.memberId);
    if (this.leaderId === m.memberId) this.leaderId = null;
  }

  /** The first protocol, in the first member's preference order, that every member supports. */
  private commonProtocol(lists: { name: string }[][]): string | null {
    const [first, ...rest] = lists;
    for (const p of first ?? []) if (rest.every((l) => l.some((q) => q.name === p.name))) return p.name;
    return null;
  }

  /** A successful join in the current generation; `members` is filled for the leader only. */
  private joined(memberId: string, members: JoinResult["members"]): JoinResult {
    return {
      error: "NONE",
      generationId: this.generationId,
      protocolType: this.protocolType,
      protocolName: this.protocolName,
      leader: this.leaderId ?? "",
      memberId,
      members,
    };
  }

  private joinError(error: GroupError, memberId: string): JoinResult {
    return {
      error,
      generationId: -1,
      protocolType: null,
      protocolName: null,
      leader: "",
      memberId,
      members: [],
    };
  }

  private syncResult(error: GroupError, assignment: Buffer = EMPTY): SyncResult {
    return { error, protocolType: this.protocolType, protocolName: this.protocolName, assignment };
  }
}
