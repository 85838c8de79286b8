// Unit tests of the classic group state machine: join barrier, leader assignment, stale generations,
// session expiry, static membership and which commits a group takes. On fake time: every wait is exact.

import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { FakeClock } from "../testing/index.ts";
import { Group as GroupOn } from "./group.ts";
import type { JoinRequest } from "./group-types.ts";

const timings = { sessionTimeoutMinMs: 10, sessionTimeoutMaxMs: 60_000, initialRebalanceDelayMs: 30 };

function req(over: Partial<JoinRequest> = {}): JoinRequest {
  return {
    memberId: "",
    groupInstanceId: null,
    clientId: "c",
    clientHost: "/127.0.0.1",
    sessionTimeoutMs: 5000,
    rebalanceTimeoutMs: 5000,
    protocolType: "consumer",
    protocols: [{ name: "range", metadata: Buffer.from("m") }],
    ...over,
  };
}

let clock: FakeClock;
beforeEach(() => {
  clock = new FakeClock(0);
});
class Group extends GroupOn {
  constructor(id: string, t: typeof timings) {
    super(id, t, clock);
  }
}

/** Joins (each a promise) of an empty group complete once its initial rebalance delay has passed. */
function joinedAfterDelay<T>(joins: Promise<T>): Promise<T> {
  clock.advance(timings.initialRebalanceDelayMs);
  return joins;
}

describe("Group", () => {
  test("members joining an empty group together get one generation; the leader's assignment reaches all", async () => {
    const g = new Group("g", timings);
    const both = Promise.all([g.join(req()), g.join(req())]);
    clock.advance(timings.initialRebalanceDelayMs - 1);
    assert.equal(g.state, "PreparingRebalance", "the first rebalance waits for more members");
    const [a, b] = await joinedAfterDelay(both);
    assert.equal(a?.error, "NONE");
    assert.equal(a?.generationId, 1);
    assert.equal(b?.generationId, 1);
    const leader = a?.leader === a?.memberId ? a : b;
    const follower = leader === a ? b : a;
    assert.equal(leader?.members.length, 2);
    assert.equal(follower?.members.length, 0);
    const followerSync = g.sync(1, follower?.memberId ?? "", []);
    const leaderSync = g.sync(1, leader?.memberId ?? "", [
      { memberId: leader?.memberId ?? "", assignment: Buffer.from("L") },
      { memberId: follower?.memberId ?? "", assignment: Buffer.from("F") },
    ]);
    assert.equal(String((await followerSync).assignment), "F");
    assert.equal(String((await leaderSync).assignment), "L");
    assert.equal(g.state, "Stable");
    g.shutdown();
  });

  test("a stale generation is refused; a rejoin is announced by heartbeat", async () => {
    const g = new Group("g", timings);
    const a = await joinedAfterDelay(g.join(req()));
    await g.sync(a.generationId, a.memberId, [{ memberId: a.memberId, assignment: Buffer.from("x") }]);
    assert.equal(g.heartbeat(a.generationId, a.memberId), "NONE");
    assert.equal(g.heartbeat(a.generationId + 5, a.memberId), "ILLEGAL_GENERATION");
    assert.equal(g.heartbeat(a.generationId, "nobody"), "UNKNOWN_MEMBER_ID");
    const bJoin = g.join(req());
    assert.equal(g.heartbeat(a.generationId, a.memberId), "REBALANCE_IN_PROGRESS");
    const aAgain = await g.join(req({ memberId: a.memberId }));
    const b = await bJoin;
    assert.equal(aAgain.generationId, a.generationId + 1);
    assert.equal(b.generationId, a.generationId + 1);
    assert.equal(g.checkCommit(a.generationId, a.memberId), "ILLEGAL_GENERATION");
    g.shutdown();
  });

  test("a member that stops heartbeating is removed at its session timeout and the rest rebalance", async () => {
    const g = new Group("g", timings);
    const [a, b] = await joinedAfterDelay(
      Promise.all([g.join(req({ sessionTimeoutMs: 200 })), g.join(req({ sessionTimeoutMs: 200 }))]),
    );
    await Promise.all([g.sync(a.generationId, a.memberId, []), g.sync(b.generationId, b.memberId, [])]);
    assert.equal(g.state, "Stable");
    // Only a keeps heartbeating; b was last heard from at its sync (t=30), so it goes at t=230.
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      clock.advance(60);
      seen.push(`${clock.nowMs()}:${g.heartbeat(g.generationId, a.memberId)}`);
    }
    assert.deepEqual(seen, ["90:NONE", "150:NONE", "210:NONE", "270:REBALANCE_IN_PROGRESS"]);
    const again = await g.join(req({ memberId: a.memberId, sessionTimeoutMs: 200 }));
    assert.equal(again.members.length, 1, "only the live member is left");
    assert.equal(g.size, 1);
    g.shutdown();
  });

  test("a static member that comes back under a new member id replaces its old self", async () => {
    const g = new Group("g", timings);
    const first = await joinedAfterDelay(g.join(req({ groupInstanceId: "pod-1" })));
    const second = await g.join(req({ groupInstanceId: "pod-1" }));
    assert.notEqual(first.memberId, second.memberId);
    assert.equal(g.size, 1);
    assert.equal(g.leave("", "pod-1"), "NONE");
    assert.equal(g.state, "Empty");
    g.shutdown();
  });

  test("a static follower restarting into a stable group keeps its assignment without a rebalance", async () => {
    const g = new Group("g", timings);
    const [a, b] = await joinedAfterDelay(
      Promise.all([g.join(req({ groupInstanceId: "pod-a" })), g.join(req({ groupInstanceId: "pod-b" }))]),
    );
    const leader = a.leader === a.memberId ? a : b;
    const follower = leader === a ? b : a;
    const assignments = [
      { memberId: leader.memberId, assignment: Buffer.from("L") },
      { memberId: follower.memberId, assignment: Buffer.from("F") },
    ];
    await Promise.all([g.sync(1, follower.memberId, []), g.sync(1, leader.memberId, assignments)]);
    const instance = follower === a ? "pod-a" : "pod-b";
    const back = await g.join(req({ groupInstanceId: instance }));
    assert.equal(back.generationId, 1, "no new generation");
    assert.equal(g.state, "Stable");
    assert.equal(String((await g.sync(1, back.memberId, [])).assignment), "F");
    assert.equal(g.heartbeat(1, follower.memberId), "UNKNOWN_MEMBER_ID", "the old member id is gone");
    g.shutdown();
  });

  test("a leader that never syncs is removed after the rebalance timeout and the rest rebalance", async () => {
    const g = new Group("g", timings);
    const opts = { rebalanceTimeoutMs: 150, sessionTimeoutMs: 5000 };
    const [a, b] = await joinedAfterDelay(Promise.all([g.join(req(opts)), g.join(req(opts))]));
    const follower = a.leader === a.memberId ? b : a;
    const waiting = g.sync(follower.generationId, follower.memberId, []);
    clock.advance(149);
    assert.equal(g.size, 2, "the leader still has time");
    clock.advance(1);
    assert.equal((await waiting).error, "REBALANCE_IN_PROGRESS", "the follower is told to rejoin");
    const again = await g.join(req({ ...opts, memberId: follower.memberId }));
    assert.equal(again.leader, follower.memberId, "the follower now leads alone");
    assert.equal(g.size, 1);
    g.shutdown();
  });

  test("joins with no protocol in common are refused", async () => {
    const g = new Group("g", timings);
    const a = g.join(req());
    const b = await g.join(req({ protocols: [{ name: "roundrobin", metadata: Buffer.alloc(0) }] }));
    assert.equal(b.error, "INCONSISTENT_GROUP_PROTOCOL");
    assert.equal((await joinedAfterDelay(a)).error, "NONE");
    assert.equal((await g.join(req({ sessionTimeoutMs: 1 }))).error, "INVALID_SESSION_TIMEOUT");
    g.shutdown();
  });
  test("a member of the current generation commits while the group prepares a rebalance (as Kafka)", async () => {
    const g = new Group("g", timings);
    const [a, b] = await joinedAfterDelay(Promise.all([g.join(req()), g.join(req())]));
    const gen = a.generationId;
    await Promise.all([g.sync(gen, a.memberId, []), g.sync(gen, b.memberId, [])]);
    assert.equal(g.leave(b.memberId, null), "NONE", "b stops: the group prepares a rebalance");
    assert.equal(g.state, "PreparingRebalance");
    assert.equal(g.checkCommit(gen, a.memberId), "NONE", "a's last commit is taken");
    assert.equal(g.checkCommit(gen - 1, a.memberId), "ILLEGAL_GENERATION");
    assert.equal(g.checkCommit(gen, b.memberId), "UNKNOWN_MEMBER_ID", "b has left");
    assert.equal(g.checkCommit(-1, ""), "UNKNOWN_MEMBER_ID", "no anonymous commits to a live group");
    const c = g.join(req());
    const again = await g.join(req({ memberId: a.memberId }));
    assert.equal((await c).generationId, gen + 1);
    assert.equal(g.state, "CompletingRebalance");
    assert.equal(g.checkCommit(gen + 1, a.memberId), "REBALANCE_IN_PROGRESS", "not between join and sync");
    const cSync = g.sync(gen + 1, (await c).memberId, []);
    await g.sync(gen + 1, again.memberId, []);
    await cSync;
    assert.equal(g.checkCommit(gen + 1, a.memberId), "NONE");
    // a commit is a sign of life: a's session (5 s) restarts with it
    clock.advance(4000);
    assert.equal(g.checkCommit(gen + 1, a.memberId), "NONE");
    clock.advance(4000);
    assert.equal(g.describe().length, 1, "c, silent for 8 s, is gone; a is not");
    assert.equal(g.describe()[0]?.memberId, a.memberId);
    g.shutdown();
    assert.equal(g.checkCommit(gen + 1, a.memberId), "COORDINATOR_NOT_AVAILABLE");
  });

  test("commits without a generation are taken by an empty group only; static members are fenced", async () => {
    const g = new Group("g", timings);
    assert.equal(g.checkCommit(-1, ""), "NONE");
    assert.equal(g.checkCommit(-1, "someone"), "NONE", "Kafka: generation -1 on an empty group");
    assert.equal(g.checkCommit(0, "someone"), "UNKNOWN_MEMBER_ID");
    const a = await joinedAfterDelay(g.join(req({ groupInstanceId: "pod-a" })));
    await g.sync(a.generationId, a.memberId, []);
    assert.equal(g.checkCommit(a.generationId, a.memberId, "pod-a"), "NONE");
    assert.equal(g.checkCommit(a.generationId, "old-id", "pod-a"), "FENCED_INSTANCE_ID");
    assert.equal(g.checkCommit(a.generationId, a.memberId, "pod-b"), "UNKNOWN_MEMBER_ID");
    g.shutdown();
  });
});
