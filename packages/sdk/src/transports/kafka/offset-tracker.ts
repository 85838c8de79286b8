// Which offsets of one partition are safe to commit: a record counts as done once its delivery is
// settled, and the commit point only moves over a contiguous run of done records. Invariant: the
// committed offset never passes a record that is still being handled (at-least-once across a crash).

export class OffsetTracker {
  /** offsets handed out and not settled, in arrival order (arrival order is offset order in a partition) */
  private readonly open = new Set<bigint>();
  /** the offset after the highest record seen */
  private next = -1n;
  /** the last commit point sent (the next offset to read) */
  committed = -1n;
  /** the first offset seen here: below it this tracker knows nothing */
  private committedFloor = -1n;

  seen(offset: bigint): void {
    if (this.committedFloor < 0n) this.committedFloor = offset;
    this.open.add(offset);
    if (offset + 1n > this.next) this.next = offset + 1n;
  }

  done(offset: bigint): void {
    this.open.delete(offset);
  }

  /** Whether this record was seen here and settled (browse skips it although the commit point is below). */
  isDone(offset: bigint): boolean {
    return offset < this.next && !this.open.has(offset) && offset >= this.committedFloor;
  }

  /** The offset to commit now (the lowest open one, or past the highest seen), if it moved. */
  commitPoint(): bigint | undefined {
    let point = this.next;
    for (const o of this.open) {
      point = o; // Set keeps insertion order: the first open offset is the lowest
      break;
    }
    return point > this.committed ? point : undefined;
  }
}
