// Where the admin commands read and write: stdout for results, stderr for one-line errors and the progress
// bar, stdin for bodies and lines. Invariant: stdout carries only results (what a script pipes on).

import { createInterface } from "node:readline";

export interface AdminIo {
  readonly env: NodeJS.ProcessEnv;
  /** results, exactly as given (binary payloads are written as bytes) */
  readonly write: (chunk: string | Uint8Array) => void;
  /** one diagnostic line */
  readonly error: (line: string) => void;
  readonly stdin: NodeJS.ReadableStream;
  /** true when stdin is a terminal, i.e. nobody piped anything in */
  readonly stdinIsTty: boolean;
  /** stderr when it is a terminal (a progress bar is drawn there), else null */
  readonly progressTty: NodeJS.WriteStream | null;
}

/** The process's streams; a reader that closes stdout early (`| head`) ends the command quietly. */
export function processIo(env: NodeJS.ProcessEnv): AdminIo {
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0);
    throw e;
  });
  return {
    env,
    write: (chunk) => process.stdout.write(chunk),
    error: (line) => process.stderr.write(`${line}\n`),
    stdin: process.stdin,
    stdinIsTty: process.stdin.isTTY === true,
    progressTty: process.stderr.isTTY === true ? process.stderr : null,
  };
}

/** All of stdin. */
export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

/** Lines of a stream (`\n` or `\r\n`). */
export function linesOf(stream: NodeJS.ReadableStream): AsyncIterable<string> {
  return createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
}
