// The log contract against FileLog on a real temporary directory.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { nodeFs, silentLogger } from "../lib/index.ts";
import { FileLog } from "./file-log.ts";
import { logConfig, runLogContract } from "./log-contract.ts";

const root = mkdtempSync(join(tmpdir(), "spindle-log-"));
after(() => rmSync(root, { recursive: true, force: true }));
const dirs = new WeakMap<object, string>();
let n = 0;

runLogContract("FileLog on disk", {
  create: async (config, clock) => {
    const dir = join(root, `log-${n++}`);
    const log = await FileLog.open({
      fs: nodeFs,
      dir,
      config: logConfig(config),
      clock,
      logger: silentLogger,
    });
    dirs.set(log, dir);
    return log;
  },
  reopen: async (log, config, clock) => {
    await log.close();
    const dir = dirs.get(log)!;
    const reopened = await FileLog.open({
      fs: nodeFs,
      dir,
      config: logConfig(config),
      clock,
      logger: silentLogger,
    });
    dirs.set(reopened, dir);
    return reopened;
  },
});
