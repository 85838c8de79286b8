// The consumer-group vocabulary shared by the coordinator and the gateway: states, outcomes, members.
// Invariant: outcomes are named after the protocol's errors so the gateway's map stays one-to-one.

export type GroupState = "Empty" | "PreparingRebalance" | "CompletingRebalance" | "Stable" | "Dead";

export type GroupError =
  | "NONE"
  | "UNKNOWN_MEMBER_ID"
  | "ILLEGAL_GENERATION"
  | "REBALANCE_IN_PROGRESS"
  | "INCONSISTENT_GROUP_PROTOCOL"
  | "INVALID_SESSION_TIMEOUT"
  | "INVALID_GROUP_ID"
  | "NON_EMPTY_GROUP"
  | "GROUP_ID_NOT_FOUND"
  | "FENCED_INSTANCE_ID"
  | "COORDINATOR_NOT_AVAILABLE";

export interface JoinRequest {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: { name: string; metadata: Buffer }[];
}

export interface JoinResult {
  error: GroupError;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  memberId: string;
  /** filled for the leader only */
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

export interface SyncResult {
  error: GroupError;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export interface MemberView {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  metadata: Buffer;
  assignment: Buffer;
}

export interface GroupTimings {
  sessionTimeoutMinMs: number;
  sessionTimeoutMaxMs: number;
  /** how long the first rebalance of an empty group waits for more members */
  initialRebalanceDelayMs: number;
}

export const DEFAULT_GROUP_TIMINGS: GroupTimings = {
  sessionTimeoutMinMs: 1000,
  sessionTimeoutMaxMs: 1_800_000,
  initialRebalanceDelayMs: 1000,
};
