// The log contract against FileLog on the in-memory fault-injecting Fs (no faults here: see crash tests).
import { silentLogger } from "../lib/index.ts";
import { FaultFs } from "../testing/index.ts";
import { FileLog } from "./file-log.ts";
import { logConfig, runLogContract } from "./log-contract.ts";

let n = 0;
runLogContract("FileLog on FaultFs", {
  create: async (config, clock) => {
    const fs = new FaultFs();
    return FileLog.open({
      fs,
      dir: `/data/log-${n++}`,
      config: logConfig(config),
      clock,
      logger: silentLogger,
    });
  },
  reopen: async (log, config, clock) => {
    await log.close();
    const { fs, dir } = (log as unknown as { opts: { fs: FaultFs; dir: string } }).opts;
    return FileLog.open({ fs, dir, config: logConfig(config), clock, logger: silentLogger });
  },
});
