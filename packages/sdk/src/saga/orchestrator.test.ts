// Orchestrator edge cases on memory:// and the memory store: a command that cannot be built fails its
// step (and compensates), a compensation that cannot be built fails the saga; bad options are named.

import assert from "node:assert/strict";
import { after, it } from "node:test";
import { connect } from "../index.ts";
import { uniqueName } from "../testing/wait.ts";
import { memorySagaStore } from "./memory-saga-store.ts";
import { sagaOrchestrator } from "./orchestrator.ts";
import { defineSaga } from "./saga.ts";

const bus = await connect(`memory://${uniqueName("orchestrator")}`);
after(() => bus.close());

it("a command builder that throws fails its step; a compensation builder that throws fails the saga", async () => {
  const topic = uniqueName("cmds");
  const seen: string[] = [];
  await bus.subscribe(topic, { group: "svc" }, (m) => {
    seen.push(m.type);
    return {};
  });
  const saga = defineSaga<{ broken: "action" | "compensation" }>({
    name: "builders",
    steps: [
      {
        name: "first",
        command: () => ({ topic, type: "Do", data: {} }),
        compensate: (d) => {
          if (d.broken === "compensation") throw new Error("no undo for you");
          return { topic, type: "Undo", data: {} };
        },
      },
      {
        name: "second",
        command: (d) => {
          throw new Error(`cannot build (${d.broken})`);
        },
      },
    ],
  });
  const sagas = await sagaOrchestrator(bus, {
    store: memorySagaStore(),
    sagas: [saga],
    name: uniqueName("o"),
  });
  after(() => sagas.close());
  const a = await sagas.finished(await sagas.start("builders", { broken: "action" }), { timeoutMs: 10_000 });
  assert.equal(a.status, "compensated");
  assert.equal(a.error, "second: cannot build (action)");
  const c = await sagas.finished(await sagas.start("builders", { broken: "compensation" }), {
    timeoutMs: 10_000,
  });
  assert.equal(c.status, "failed");
  assert.equal(c.error, "compensation of first: no undo for you");
  assert.deepEqual(seen, ["Do", "Undo", "Do"]);
});

it("bad orchestrator options are named", async () => {
  const saga = defineSaga({ name: "s", steps: [{ name: "a", invoke: (d) => d }] });
  const store = memorySagaStore();
  await assert.rejects(sagaOrchestrator(bus, { store, sagas: [saga], name: "a.b" }), /name "a.b" must be/u);
  await assert.rejects(sagaOrchestrator(bus, { store, sagas: [] }), /must name at least one saga/u);
  await assert.rejects(sagaOrchestrator(bus, { store, sagas: [saga, saga] }), /"s" is given twice/u);
});
