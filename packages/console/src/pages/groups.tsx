// Consumer groups: state, members and total lag of each, with the lag kept live by the stream's samples.
// Invariant: a group's lag shown is the broker's (committed offset to end offset), never estimated here.

import { api } from "../api.ts";
import { ErrorText, Section } from "../components/ui.tsx";
import { num } from "../format.ts";
import { usePoll } from "../poll.ts";
import { href } from "../router.ts";
import type { GroupInfo } from "../types.ts";

export function Groups() {
  const groups = usePoll(() => api<GroupInfo[]>("GET", "groups"), 2000);
  const list = groups.data ?? [];
  return (
    <>
      <h1>Consumer groups</h1>
      <Section title={`Groups (${list.length})`}>
        <ErrorText error={groups.error} />
        <table class="grid" data-table="groups">
          <thead>
            <tr>
              <th>group</th>
              <th>state</th>
              <th>protocol type</th>
              <th class="n">members</th>
              <th class="n">lag</th>
            </tr>
          </thead>
          <tbody>
            {list.map((g) => (
              <tr key={g.group_id} data-group={g.group_id}>
                <td>
                  <a href={href("groups", g.group_id)}>{g.group_id}</a>
                </td>
                <td>{g.state}</td>
                <td>{g.protocol_type ?? "–"}</td>
                <td class="n">{num(g.members)}</td>
                <td class="n" data-col="lag">
                  {num(g.lag)}
                </td>
              </tr>
            ))}
            {list.length === 0 && groups.data !== undefined && (
              <tr>
                <td colSpan={5} class="empty">
                  no consumer groups yet: they appear once a Kafka consumer joins or commits
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </Section>
    </>
  );
}
