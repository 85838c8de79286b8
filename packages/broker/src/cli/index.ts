// The admin commands of the `spindle` CLI — clients of the broker's HTTP API (docs/HTTP-API.md), loaded
// by server/cli.ts with a dynamic import() so that `spindle start` never loads them.
// Invariant: nothing here imports the broker (server/, gateway/, queues/, streams/, log/); only lib/ may be.

import type { Command } from "commander";
import { bindingsCommand } from "./bindings.ts";
import type { AdminEnv } from "./command.ts";
import { consumeCommand } from "./consume.ts";
import type { ExitCode } from "./errors.ts";
import { exchangesCommand } from "./exchanges.ts";
import { groupsCommand } from "./groups.ts";
import { processIo } from "./io.ts";
import { produceCommand } from "./produce.ts";
import { publishCommand } from "./publish.ts";
import { queuesCommand } from "./queues.ts";
import { statusCommand } from "./status.ts";
import { topicsCommand } from "./topics.ts";
import { transactionsCommand } from "./transactions.ts";

/** Adds the admin commands to `program`; an action hands its exit code to `done`. */
export function registerAdminCommands(
  program: Command,
  env: NodeJS.ProcessEnv,
  done: (code: ExitCode) => void,
): void {
  const admin: AdminEnv = { io: processIo(env), done };
  for (const cmd of [
    statusCommand(admin),
    queuesCommand(admin),
    exchangesCommand(admin),
    bindingsCommand(admin),
    publishCommand(admin),
    topicsCommand(admin),
    groupsCommand(admin),
    transactionsCommand(admin),
    consumeCommand(admin),
    produceCommand(admin),
  ]) {
    program.addCommand(cmd);
    inherit(program, cmd);
  }
}

/** addCommand() does not pass exitOverride/output settings down as command() does; a usage error in a
 * subcommand would otherwise call process.exit itself. */
function inherit(parent: Command, cmd: Command): void {
  cmd.copyInheritedSettings(parent);
  for (const sub of cmd.commands) inherit(cmd, sub);
}
