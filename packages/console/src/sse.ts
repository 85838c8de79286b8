// Server-sent events read from a fetch body: EventSource cannot send the Authorization header.
// Invariant: an event is yielded only once its blank line arrived; multi-line `data:` joins with "\n".

import { lines } from "./api.ts";

export interface ServerEvent {
  readonly event: string;
  readonly data: string;
}

export async function* serverEvents(res: Response): AsyncGenerator<ServerEvent> {
  let event = "message";
  let data: string[] = [];
  for await (const line of lines(res)) {
    if (line === "") {
      if (data.length > 0) yield { event, data: data.join("\n") };
      event = "message";
      data = [];
      continue;
    }
    if (line.startsWith(":")) continue; // a comment (keep-alive)
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
}
