// Small helpers the SQL stores share: table names checked before they are spliced into statements, and
// a SQLite file path that a second connection can open. Invariant: no name reaches SQL unchecked.

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,50}$/u;

/** `name` if it is a plain SQL identifier (no schema, no quoting), else a TypeError naming `what`. */
export function sqlIdent(what: string, name: string): string {
  if (!IDENT.test(name)) {
    throw new TypeError(`${what}: table "${name}" must be a plain SQL identifier (letters, digits, _; ≤ 50)`);
  }
  return name;
}

/** Postgres' unique-violation SQLSTATE. */
export const PG_UNIQUE_VIOLATION = "23505";

export function pgCode(e: unknown): string | undefined {
  return typeof e === "object" && e !== null ? (e as { code?: string }).code : undefined;
}
