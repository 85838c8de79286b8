// The admin commands' failures and the exit code each one means to a script.
// Invariant: 0 ok, 1 the server answered an error, 2 usage, 3 the server could not be reached — nothing else.

export const EXIT = { ok: 0, server: 1, usage: 2, unreachable: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure to report as one stderr line (without the `spindle: ` prefix) and exit with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = "CliError";
  }
}

export const usageError = (message: string): CliError => new CliError(message, EXIT.usage);
export const serverError = (message: string): CliError => new CliError(message, EXIT.server);
