// Which topic names are legal: Kafka's rule (1-249 chars of [a-zA-Z0-9._-], not "." or "..").
// Invariant: every topic that reaches storage passed this check, so a name is always a safe path part.

const LEGAL = /^[a-zA-Z0-9._-]{1,249}$/;

/** Returns why `name` is not a legal topic name, or null when it is. */
export function topicNameProblem(name: string | null | undefined): string | null {
  if (name === null || name === undefined || name.length === 0) return "topic name is empty";
  if (name === "." || name === "..") return `topic name ${name} is not allowed`;
  if (!LEGAL.test(name))
    return `topic name ${JSON.stringify(name.slice(0, 300))} must be 1-249 characters of a-z, A-Z, 0-9, '.', '_' and '-'`;
  return null;
}
