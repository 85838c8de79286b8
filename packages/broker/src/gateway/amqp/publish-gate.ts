// Resource alarms as the AMQP gateway sees them: the reason publishing is blocked (null when it is not)
// and the live connections to tell. Invariant: members hear only block ↔ unblock transitions, in order.

/** A connection that blocks its publishers while an alarm is on (RabbitMQ's connection.blocked). */
export interface Blockable {
  alarmChanged(reason: string | null): void;
}

export class PublishGate {
  private current: string | null = null;
  private readonly members = new Set<Blockable>();

  /** Why publishing is blocked now, e.g. "low on disk"; null when it is not. */
  get reason(): string | null {
    return this.current;
  }

  /** The hook the resource alarms call; a new reason while already blocked is not re-announced. */
  setBlocked(reason: string | null): void {
    const was = this.current;
    this.current = reason;
    if ((was === null) === (reason === null)) return;
    for (const m of this.members) m.alarmChanged(reason);
  }

  join(m: Blockable): void {
    this.members.add(m);
  }

  leave(m: Blockable): void {
    this.members.delete(m);
  }
}
