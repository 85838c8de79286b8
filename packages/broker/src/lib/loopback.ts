// Whether a peer's address is loopback: the default user guest/guest is accepted only from there, over AMQP
// and HTTP alike (as RabbitMQ's loopback_users). Invariant: one rule for every gateway.

/** 127.0.0.0/8, ::1, or IPv4-mapped 127.x as a socket reports them; an unknown address is not loopback. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  return address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127.");
}
