// The login form: prefilled guest/guest (the broker's only user, from loopback), checked against the API.
// Invariant: credentials are remembered only once the API accepted them.

import { useState } from "preact/hooks";
import { ApiError, apiFetch } from "../api.ts";
import { ErrorText } from "../components/ui.tsx";
import { basic, rememberLogin } from "../session.ts";

export function Login() {
  const [user, setUser] = useState("guest");
  const [pass, setPass] = useState("guest");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const header = basic(user, pass);
    try {
      await apiFetch("whoami", {}, header);
      rememberLogin(header);
    } catch (err) {
      // any answer but 401 means the credentials passed the auth check
      if (err instanceof ApiError && err.status !== 401) rememberLogin(header);
      else setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="login">
      <form class="panel" onSubmit={submit}>
        <h1>Spindle</h1>
        <label class="field">
          <span>user</span>
          <input
            name="user"
            value={user}
            autocomplete="username"
            onInput={(e) => setUser(e.currentTarget.value)}
          />
        </label>
        <label class="field">
          <span>password</span>
          <input
            name="password"
            type="password"
            value={pass}
            autocomplete="current-password"
            onInput={(e) => setPass(e.currentTarget.value)}
          />
        </label>
        <button type="submit" disabled={busy}>
          Log in
        </button>
        <ErrorText error={error} />
      </form>
    </main>
  );
}
