// The console's frame: login gate, navigation, the live-feed indicator and the page for the current route.
// Invariant: pages render only while logged in; an unknown route says so instead of showing a blank page.

import type { JSX } from "preact";
import { latest, liveState } from "./live.ts";
import { Connections } from "./pages/connections.tsx";
import { Exchange } from "./pages/exchange.tsx";
import { Exchanges } from "./pages/exchanges.tsx";
import { Group } from "./pages/group.tsx";
import { Groups } from "./pages/groups.tsx";
import { Login } from "./pages/login.tsx";
import { Overview } from "./pages/overview.tsx";
import { Queue } from "./pages/queue.tsx";
import { Queues } from "./pages/queues.tsx";
import { Topic } from "./pages/topic.tsx";
import { Topics } from "./pages/topics.tsx";
import { Transaction } from "./pages/transaction.tsx";
import { Transactions } from "./pages/transactions.tsx";
import { href, route } from "./router.ts";
import { authHeader, logout } from "./session.ts";

const NAV: readonly [page: string, label: string][] = [
  ["overview", "Overview"],
  ["queues", "Queues"],
  ["exchanges", "Exchanges"],
  ["topics", "Topics"],
  ["groups", "Consumer groups"],
  ["transactions", "Transactions"],
  ["connections", "Connections"],
];

function page(name: string, id: string | null): JSX.Element {
  switch (name) {
    case "overview":
      return <Overview />;
    case "queues":
      return id === null ? <Queues /> : <Queue name={id} key={id} />;
    case "exchanges":
      return id === null ? <Exchanges /> : <Exchange name={id} key={id} />;
    case "topics":
      return id === null ? <Topics /> : <Topic name={id} key={id} />;
    case "groups":
      return id === null ? <Groups /> : <Group id={id} key={id} />;
    case "transactions":
      return id === null ? <Transactions /> : <Transaction id={id} key={id} />;
    case "connections":
      return <Connections />;
    default:
      return (
        <p class="error">
          No page “{name}”. <a href={href("overview")}>Back to the overview</a>.
        </p>
      );
  }
}

export function App() {
  if (authHeader.value === null) return <Login />;
  const { page: current, id } = route.value;
  const alarms = latest.value?.alarms ?? [];
  return (
    <>
      <header class="top">
        <a class="brand" href={href("overview")}>
          Spindle
        </a>
        <nav>
          {NAV.map(([p, label]) => (
            <a key={p} href={href(p)} class={p === current ? "active" : ""}>
              {label}
            </a>
          ))}
        </nav>
        <span class="spacer" />
        {alarms.length > 0 && (
          <span class="badge alarm" data-alarms>
            alarm: {alarms.join(", ")}
          </span>
        )}
        <span class={liveState.value === "live" ? "badge live" : "badge down"} title={liveState.value}>
          {liveState.value === "live" ? "live" : "offline"}
        </span>
        <button type="button" class="link" onClick={logout}>
          Log out
        </button>
      </header>
      <main class="page" data-page={id === null ? current : `${current}-detail`}>
        {page(current, id)}
      </main>
    </>
  );
}
