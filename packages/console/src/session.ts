// The console's login: basic-auth credentials kept in sessionStorage for the tab's life.
// Invariant: `authHeader` is null until the API has accepted the credentials once; a 401 clears it.

import { signal } from "@preact/signals";

const KEY = "spindle.auth";

function stored(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

/** `Basic …` while logged in, else null (the login form shows). */
export const authHeader = signal<string | null>(stored());

export function basic(user: string, pass: string): string {
  // btoa takes Latin-1 only: encode UTF-8 first so any password can be sent
  const bytes = new TextEncoder().encode(`${user}:${pass}`);
  let latin1 = "";
  for (const b of bytes) latin1 += String.fromCharCode(b);
  return `Basic ${btoa(latin1)}`;
}

export function rememberLogin(header: string): void {
  try {
    sessionStorage.setItem(KEY, header);
  } catch {
    // private mode without storage: the login lasts until the page reloads
  }
  authHeader.value = header;
}

export function logout(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // nothing stored
  }
  authHeader.value = null;
}
