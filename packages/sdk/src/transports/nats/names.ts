// What the NATS adapter calls things in JetStream: a stream per topic (subjects: the topic, and one
// subject per group for copies meant for that group alone), a durable consumer per group, a work-queue
// stream per dead-letter queue. Invariant: the same names give the same streams and consumers everywhere.

/** A subject made of tokens: letters, digits, `_`, `-`, dots between non-empty tokens. */
const SUBJECT = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/u;
/** A group (a consumer name and a subject token): letters, digits, `_`, `-`. */
const TOKEN = /^[A-Za-z0-9_-]+$/u;

function check(kind: string, name: string, ok: RegExp, what: string): void {
  if (!ok.test(name)) throw new Error(`nats:// ${kind} "${name}" is not usable: ${what}`);
}

export function checkTopic(topic: string): void {
  check("topic", topic, SUBJECT, "use letters, digits, _ and -, with dots between parts");
}

export function checkGroup(group: string): void {
  check("group", group, TOKEN, "use letters, digits, _ and - only");
}

/** Stream names may not contain dots: they become `_`; a prefix keeps topics and queues apart. */
export function topicStream(topic: string): string {
  return `spindle_t_${topic.replaceAll(".", "_")}`;
}

/** Subjects of a topic's stream: the topic (every group) and `<topic>._g.<group>` (one group). */
export function topicSubjects(topic: string): string[] {
  return [topic, `${topic}._g.*`];
}

export function groupSubject(topic: string, group: string): string {
  return `${topic}._g.${group}`;
}

/** The durable consumers of a group: one for the topic, one for copies sent to the group alone. */
export function groupConsumers(group: string): { main: string; targeted: string } {
  return { main: group, targeted: `${group}-targeted` };
}

export function queueStream(queue: string): string {
  return `spindle_q_${queue.replaceAll(".", "_")}`;
}

export function queueSubject(queue: string): string {
  return `_spindle.q.${queue}`;
}

/** The durable consumer that take() leases a queue's messages through. */
export const TAKE_CONSUMER = "take";
