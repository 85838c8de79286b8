// Which partition a record goes to when the producer does not say: Kafka's default partitioner (murmur2 of
// the key, as the Java client, librdkafka's murmur2 and kafkajs' default), round robin for records without key.
// Invariant: a key always maps to the same partition for a given partition count, as every Kafka client maps it.

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's `Utils.murmur2`: MurmurHash2, 32-bit, seed 0x9747b28c, as a signed 32-bit integer. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k =
      (data[i] as number) |
      ((data[i + 1] as number) << 8) |
      ((data[i + 2] as number) << 16) |
      ((data[i + 3] as number) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & 3;
  if (tail > 0) {
    if (tail === 3) h ^= (data[whole + 2] as number) << 16;
    if (tail >= 2) h ^= (data[whole + 1] as number) << 8;
    h ^= data[whole] as number;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Kafka clients choose for `key` among `count` partitions. */
export function partitionForKey(key: Uint8Array, count: number): number {
  return (murmur2(key) & 0x7fffffff) % count;
}

/** Keyed records by murmur2; records without a key take the topic's partitions in turn. */
export class Partitioner {
  private readonly next = new Map<string, number>();

  partitionFor(topic: string, count: number, key: Uint8Array | null): number {
    if (key !== null) return partitionForKey(key, count);
    const n = this.next.get(topic) ?? 0;
    this.next.set(topic, (n + 1) % 0x7fffffff);
    return n % count;
  }
}
