// The API paths the admin commands call, and the words a 404 uses for what a path names.
// Invariant: every name is one encoded path segment (`/`, `#`, `%` in names survive; vhost `/` is %2F).

import { seg } from "./http-client.ts";

const quote = (s: string): string => JSON.stringify(s);

export const vhostWhat = (vhost: string): string => `vhost ${quote(vhost)}`;
export const queueWhat = (name: string, vhost: string): string =>
  `queue ${quote(name)} in vhost ${quote(vhost)}`;
export const exchangeWhat = (name: string, vhost: string): string =>
  `exchange ${quote(name === "" ? "amq.default" : name)} in vhost ${quote(vhost)}`;
export const topicWhat = (name: string): string => `topic ${quote(name)}`;
export const groupWhat = (id: string): string => `consumer group ${quote(id)}`;

export const queuePath = (vhost: string, name: string): string => `/api/queues/${seg(vhost)}/${seg(name)}`;
/** The default exchange ("") is `amq.default` in the management API's paths. */
export const exchangePath = (vhost: string, name: string): string =>
  `/api/exchanges/${seg(vhost)}/${seg(name === "" ? "amq.default" : name)}`;
export const topicPath = (name: string): string => `/api/topics/${seg(name)}`;
export const groupPath = (id: string): string => `/api/groups/${seg(id)}`;
export const transactionWhat = (id: string): string => `transactional id ${quote(id)}`;
export const transactionPath = (id: string): string => `/api/transactions/${seg(id)}`;
