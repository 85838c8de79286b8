// Connections and channels: who is connected, over which protocol, with their channels; closing one.
// Invariant: closing asks first; the tables reload after it.

import { api } from "../api.ts";
import { ActionResult, ErrorText, Section, useAction } from "../components/ui.tsx";
import { num, time } from "../format.ts";
import { usePoll } from "../poll.ts";
import type { ChannelInfo, ConnectionInfo } from "../types.ts";

export function Connections() {
  const connections = usePoll(() => api<ConnectionInfo[]>("GET", "connections"), 2000);
  const channels = usePoll(() => api<ChannelInfo[]>("GET", "channels"), 2000);
  const action = useAction();
  const close = (name: string) =>
    action.run(async () => {
      if (!confirm(`Close connection ${name}?`)) return;
      await api("DELETE", `connections/${encodeURIComponent(name)}`);
      connections.reload();
      channels.reload();
      return `closed ${name}`;
    });
  const conns = connections.data ?? [];
  const chans = channels.data ?? [];
  return (
    <>
      <h1>Connections</h1>
      <Section title={`Connections (${conns.length})`}>
        <ErrorText error={connections.error} />
        <ActionResult action={action} />
        <table class="grid" data-table="connections">
          <thead>
            <tr>
              <th>name</th>
              <th>client</th>
              <th>user</th>
              <th>protocol</th>
              <th>state</th>
              <th class="n">channels</th>
              <th>since</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {conns.map((c) => (
              <tr key={c.name}>
                <td class="nowrap">{c.name}</td>
                <td>{c.client_properties?.connection_name ?? c.client_properties?.product ?? "–"}</td>
                <td>{c.user ?? "–"}</td>
                <td>{c.protocol ?? "–"}</td>
                <td>{c.state ?? "–"}</td>
                <td class="n">{num(c.channels)}</td>
                <td class="nowrap">{time(c.connected_at)}</td>
                <td>
                  <button
                    type="button"
                    class="small danger"
                    onClick={() => close(c.name)}
                    disabled={action.busy}
                  >
                    Close
                  </button>
                </td>
              </tr>
            ))}
            {conns.length === 0 && connections.data !== undefined && (
              <tr>
                <td colSpan={8} class="empty">
                  no AMQP connections
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </Section>
      <Channels list={chans} error={channels.error} />
    </>
  );
}

function Channels(props: { list: ChannelInfo[]; error: string | null }) {
  const chans = props.list;
  return (
    <Section title={`Channels (${chans.length})`}>
      <ErrorText error={props.error} />
      <table class="grid" data-table="channels">
        <thead>
          <tr>
            <th>channel</th>
            <th>mode</th>
            <th>state</th>
            <th class="n">consumers</th>
            <th class="n">prefetch</th>
            <th class="n">unacked</th>
            <th class="n">unconfirmed</th>
          </tr>
        </thead>
        <tbody>
          {chans.map((ch) => (
            <tr key={ch.name}>
              <td class="nowrap">{ch.name}</td>
              <td>
                {[ch.confirm === true ? "confirm" : "", ch.transactional === true ? "tx" : ""].join(" ")}
              </td>
              <td>{ch.state ?? "–"}</td>
              <td class="n">{num(ch.consumer_count)}</td>
              <td class="n">{num(ch.prefetch_count)}</td>
              <td class="n">{num(ch.messages_unacknowledged)}</td>
              <td class="n">{num(ch.messages_unconfirmed)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}
