// Public surface of the HTTP gateway: the app factory that server/ mounts on its listener.
// Invariant: server/ imports only from here, never a resource module directly.

export { createHttpApp, type HttpAppOptions } from "./app.ts";
export type { HttpContext, ListenerName, ResourceReadings } from "./context.ts";
