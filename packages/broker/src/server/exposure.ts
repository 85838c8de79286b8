// Whether the listeners' host is reachable only from this machine, and the refusal to expose a broker that
// has no authentication. Invariant: a non-loopback host starts only with --insecure (until users, SASL and TLS).

import { BlockList, isIP } from "node:net";

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6"); // also matches ::ffff:127.x.x.x and the long form of ::1

/** 127.0.0.0/8, ::1 (any spelling, IPv4-mapped too) or `localhost`; any other name counts as not loopback. */
export function isLoopbackHost(host: string): boolean {
  if (host.toLowerCase() === "localhost") return true;
  const family = isIP(host);
  if (family === 0) return false;
  return LOOPBACK.check(host, family === 4 ? "ipv4" : "ipv6");
}

/** Where the host came from, to phrase the refusal in the user's own terms. */
export type HostSource = "argv" | "env" | "file" | "default";

/**
 * The one-line reason a broker with no authentication must not bind `host`, or undefined when it may.
 * Nothing authenticates yet but guest/guest, so every non-loopback host needs --insecure.
 */
export function exposureRefusal(host: string, insecure: boolean, source: HostSource): string | undefined {
  if (insecure || isLoopbackHost(host)) return undefined;
  const given = source === "env" ? `SPINDLE_HOST=${host}` : `--host ${host}`;
  const allow = source === "env" ? "set SPINDLE_INSECURE=true" : "pass --insecure";
  const where = source === "file" ? " (from the config file)" : "";
  return `${given}${where} exposes the broker with no authentication (guest/guest); ${allow} to allow it, or bind 127.0.0.1`;
}
