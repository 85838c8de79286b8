// Sends a NOTIFY on a channel after the writes it announces have committed, coalescing a burst into one.
// PostgreSQL serializes the commits of every transaction that has NOTIFYed (a database-wide lock from
// the notify queue through the commit's WAL flush), so a NOTIFY inside each writer's transaction made
// concurrent writers commit one at a time. Invariant: every notify() is followed by a NOTIFY sent after
// it; at most one is in flight per notifier. A crash between a commit and its NOTIFY leaves listeners to
// their fallback poll.

import type { Pool } from "pg";

export class PgNotifier {
  private inFlight: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly pool: Pool,
    private readonly channel: string,
    private readonly onError: (e: unknown) => void,
  ) {}

  /** Call after a commit: a NOTIFY goes out soon, shared with the other commits around it. */
  notify(): void {
    if (this.inFlight !== undefined) {
      this.again = true;
      return;
    }
    this.inFlight = this.send();
  }

  private async send(): Promise<void> {
    do {
      this.again = false;
      await this.pool.query("SELECT pg_notify($1, '')", [this.channel]).catch(this.onError);
    } while (this.again);
    this.inFlight = undefined;
  }

  /** Resolves once the NOTIFY in flight, if any, has been sent. */
  async flush(): Promise<void> {
    await this.inFlight;
  }
}
