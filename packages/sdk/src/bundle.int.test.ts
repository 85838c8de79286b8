// The built package as an application loads it (dist/bundle/, no `source` condition): it resolves, runs on
// memory://, and its bundled copy of the OpenTelemetry API sees an OTel SDK the application registered
// through its own copy of @opentelemetry/api (the global registry both read).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

const SCRIPT = `
import { trace } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
const exporter = new InMemorySpanExporter();
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
const sdk = await import("@spindle/sdk");
const bus = await sdk.connect("memory://bundle-" + process.pid);
let done;
const handled = new Promise((r) => (done = r));
await bus.subscribe("orders", { group: "billing" }, (m) => done(m.data));
await bus.publish("orders", { n: 1 });
const data = await handled;
await bus.close();
console.log(JSON.stringify({ entry: import.meta.resolve("@spindle/sdk"), data, spans: exporter.getFinishedSpans().map((s) => s.name) }));
`;

describe("the built @spindle/sdk (bundle)", () => {
  it("runs from dist/bundle and traces through the application's OTel SDK", () => {
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", SCRIPT], {
      cwd: ROOT,
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim()) as { entry: string; data: unknown; spans: string[] };
    assert.match(out.entry, /packages\/sdk\/dist\/bundle\/index\.js$/u);
    assert.deepEqual(out.data, { n: 1 });
    assert.ok(out.spans.includes("publish orders"), JSON.stringify(out.spans));
    assert.ok(out.spans.includes("process orders"), JSON.stringify(out.spans));
  });
});
