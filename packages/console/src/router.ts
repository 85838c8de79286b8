// Hash routes: `#/queues/orders` → { page: "queues", id: "orders" }. No router library: the console has
// a handful of pages and ids are the only parameters. Invariant: ids are percent-decoded exactly once.

import { signal } from "@preact/signals";

export interface Route {
  readonly page: string;
  readonly id: string | null;
}

function parse(hash: string): Route {
  const [page = "", ...rest] = hash.replace(/^#\/?/, "").split("/");
  const id = rest.length > 0 ? decodeURIComponent(rest.join("/")) : null;
  return { page: page === "" ? "overview" : page, id };
}

export const route = signal<Route>(parse(location.hash));
window.addEventListener("hashchange", () => {
  route.value = parse(location.hash);
});

export function href(page: string, id?: string): string {
  return id === undefined ? `#/${page}` : `#/${page}/${encodeURIComponent(id)}`;
}
