// Runs the real `spindle` bin as a child process for the CLI tests: argv in, stdin optional, and what it
// printed and how it exited out. Invariant: the child gets no SPINDLE_* from the test's environment except
// what the test passes, and every child is killed if it outlives its deadline.

import { execFile, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../packages/broker/bin/spindle.js", import.meta.url));
const DEADLINE_MS = 60_000;

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stdoutBytes: Buffer;
  readonly stderr: string;
}

export interface CliOptions {
  /** written to stdin, which is then closed (stdin is an empty pipe otherwise: never a terminal) */
  readonly input?: string | Buffer;
  readonly env?: Readonly<Record<string, string>>;
}

export function runCli(args: readonly string[], opts: CliOptions = {}): Promise<CliRun> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("SPINDLE_")));
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...env, ...opts.env }, stdio: "pipe" });
  const out: Buffer[] = [];
  let stderr = "";
  child.stdout.on("data", (b: Buffer) => out.push(b));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  child.stdin.on("error", () => {}); // a command that does not read stdin may exit before it is written
  child.stdin.end(opts.input ?? "");
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`spindle ${args.join(" ")} ran past ${DEADLINE_MS} ms; stderr: ${stderr}`));
    }, DEADLINE_MS);
    child.once("close", (code) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, stdout: stdoutBytes.toString("utf8"), stdoutBytes, stderr });
    });
  });
}

/** A runner bound to one broker through SPINDLE_HTTP_URL. */
export function cliFor(httpUrl: string): (args: readonly string[], opts?: CliOptions) => Promise<CliRun> {
  return (args, opts = {}) => runCli(args, { ...opts, env: { SPINDLE_HTTP_URL: httpUrl, ...opts.env } });
}

/** The rows of a boxed table (`| a | b |`), header first, cells trimmed. */
export function tableRows(text: string): string[][] {
  return text
    .split("\n")
    .filter((l) => l.startsWith("|"))
    .map((l) =>
      l
        .slice(1, -1)
        .split("|")
        .map((c) => c.trim()),
    );
}

const shellQuote = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;

/**
 * Runs the bin on a pseudo-terminal (util-linux `script`), for what is drawn only on a terminal: the
 * result is everything the terminal showed, stdout and stderr together, with `\r\n` line ends.
 */
export function runCliOnTty(args: readonly string[], env: Readonly<Record<string, string>>): Promise<string> {
  const command = [process.execPath, BIN, ...args].map(shellQuote).join(" ");
  return new Promise((resolve, reject) => {
    execFile(
      "script",
      ["-qec", command, "/dev/null"],
      { env: { ...process.env, ...env }, timeout: DEADLINE_MS },
      (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}; ${stdout} ${stderr}`)) : resolve(stdout),
    );
  });
}
