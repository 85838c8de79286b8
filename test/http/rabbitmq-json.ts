// RabbitMQ 3.10's management API answers, one example per resource, written from its API reference and
// what rabbitmqadmin, Telegraf and the management UI read. Only field names and JSON types are compared
// (shape-differential.int.test.ts): the local RabbitMQ has no management plugin to ask.
// A null value stands for "null or a string"; an array's one element is the shape of every element.

const rate = { rate: 0.0 };

const messageStats = {
  publish: 12,
  publish_details: rate,
  deliver_get: 10,
  deliver_get_details: rate,
  deliver: 6,
  deliver_details: rate,
  deliver_no_ack: 2,
  deliver_no_ack_details: rate,
  get: 1,
  get_details: rate,
  get_no_ack: 1,
  get_no_ack_details: rate,
  redeliver: 1,
  redeliver_details: rate,
  ack: 6,
  ack_details: rate,
};

export const RABBITMQ_JSON = {
  overview: {
    management_version: "3.10.8",
    rates_mode: "basic",
    exchange_types: [{ name: "direct", enabled: true }],
    product_version: "3.10.8",
    product_name: "RabbitMQ",
    rabbitmq_version: "3.10.8",
    cluster_name: "rabbit@host",
    node: "rabbit@host",
    statistics_db_event_queue: 0,
    message_stats: {
      ...messageStats,
      confirm: 12,
      confirm_details: rate,
      get_empty: 0,
      get_empty_details: rate,
      return_unroutable: 0,
      return_unroutable_details: rate,
      drop_unroutable: 0,
      drop_unroutable_details: rate,
    },
    queue_totals: {
      messages: 3,
      messages_details: rate,
      messages_ready: 2,
      messages_ready_details: rate,
      messages_unacknowledged: 1,
      messages_unacknowledged_details: rate,
    },
    object_totals: { channels: 1, connections: 1, consumers: 1, exchanges: 8, queues: 2 },
    listeners: [{ node: "rabbit@host", protocol: "amqp", ip_address: "::", port: 5672 }],
  },
  whoami: { name: "guest", tags: ["administrator"] },
  node: {
    name: "rabbit@host",
    type: "disc",
    running: true,
    os_pid: "1234",
    uptime: 1000,
    processors: 2,
    mem_used: 100,
    mem_alarm: false,
    disk_free: 100,
    disk_free_alarm: false,
    rates_mode: "basic",
  },
  vhost: {
    name: "/",
    description: "Default virtual host",
    tags: ["x"],
    tracing: false,
    cluster_state: {},
    messages: 3,
    messages_details: rate,
    messages_ready: 2,
    messages_ready_details: rate,
    messages_unacknowledged: 1,
    messages_unacknowledged_details: rate,
  },
  queue: {
    name: "orders",
    vhost: "/",
    durable: true,
    auto_delete: false,
    exclusive: false,
    arguments: {},
    node: "rabbit@host",
    type: "classic",
    state: "running",
    policy: null,
    consumers: 1,
    exclusive_consumer_tag: null,
    messages: 3,
    messages_details: rate,
    messages_ready: 2,
    messages_ready_details: rate,
    messages_unacknowledged: 1,
    messages_unacknowledged_details: rate,
    message_bytes: 30,
    message_bytes_ready: 20,
    message_bytes_unacknowledged: 10,
    message_stats: messageStats,
  },
  exchange: {
    name: "events",
    vhost: "/",
    type: "topic",
    durable: true,
    auto_delete: false,
    internal: false,
    arguments: {},
    user_who_performed_action: "guest",
  },
  binding: {
    source: "events",
    vhost: "/",
    destination: "orders",
    destination_type: "queue",
    routing_key: "order.*",
    arguments: {},
    properties_key: "order.*",
  },
  connection: {
    name: "127.0.0.1:50000 -> 127.0.0.1:5672",
    node: "rabbit@host",
    type: "network",
    vhost: "/",
    user: "guest",
    user_who_performed_action: "guest",
    protocol: "AMQP 0-9-1",
    auth_mechanism: "PLAIN",
    ssl: false,
    host: "127.0.0.1",
    port: 5672,
    peer_host: "127.0.0.1",
    peer_port: 50000,
    connected_at: 1700000000000,
    state: "running",
    channels: 1,
    channel_max: 2047,
    frame_max: 131072,
    timeout: 60,
    client_properties: {},
    user_provided_name: null,
  },
  channel: {
    name: "127.0.0.1:50000 -> 127.0.0.1:5672 (1)",
    node: "rabbit@host",
    number: 1,
    connection_details: {
      name: "127.0.0.1:50000 -> 127.0.0.1:5672",
      peer_host: "127.0.0.1",
      peer_port: 50000,
    },
    vhost: "/",
    user: "guest",
    user_who_performed_action: "guest",
    state: "running",
    consumer_count: 1,
    messages_unacknowledged: 0,
    messages_unconfirmed: 0,
    messages_uncommitted: 0,
    acks_uncommitted: 0,
    prefetch_count: 10,
    global_prefetch_count: 0,
    confirm: false,
    transactional: false,
  },
  consumer: {
    consumer_tag: "amq.ctag-1",
    channel_details: {
      name: "127.0.0.1:50000 -> 127.0.0.1:5672 (1)",
      number: 1,
      connection_name: "127.0.0.1:50000 -> 127.0.0.1:5672",
      peer_host: "127.0.0.1",
      peer_port: 50000,
      node: "rabbit@host",
      user: "guest",
    },
    queue: { name: "orders", vhost: "/" },
    ack_required: true,
    prefetch_count: 10,
    exclusive: false,
    active: true,
    activity_status: "up",
    arguments: {},
  },
  message: {
    payload_bytes: 5,
    redelivered: false,
    exchange: "",
    routing_key: "orders",
    message_count: 0,
    properties: {},
    payload: "hello",
    payload_encoding: "string",
  },
  definitions: {
    rabbit_version: "3.10.8",
    rabbitmq_version: "3.10.8",
    product_name: "RabbitMQ",
    product_version: "3.10.8",
    users: [
      {
        name: "guest",
        password_hash: "x",
        hashing_algorithm: "rabbit_password_hashing_sha256",
        tags: ["administrator"],
        limits: {},
      },
    ],
    vhosts: [{ name: "/", limits: [], metadata: {} }],
    permissions: [{ user: "guest", vhost: "/", configure: ".*", write: ".*", read: ".*" }],
    topic_permissions: [],
    parameters: [],
    global_parameters: [],
    policies: [],
    queues: [
      { name: "orders", vhost: "/", durable: true, auto_delete: false, arguments: {}, type: "classic" },
    ],
    exchanges: [
      {
        name: "events",
        vhost: "/",
        type: "topic",
        durable: true,
        auto_delete: false,
        internal: false,
        arguments: {},
      },
    ],
    bindings: [
      {
        source: "events",
        vhost: "/",
        destination: "orders",
        destination_type: "queue",
        routing_key: "",
        arguments: {},
      },
    ],
  },
  publish: { routed: true },
  page: {
    filtered_count: 1,
    item_count: 1,
    items: [{}],
    page: 1,
    page_count: 1,
    page_size: 100,
    total_count: 1,
  },
  error: { error: "bad_request", reason: "text" },
} as const;

function kind(v: unknown): string {
  if (v === null) return "null";
  return Array.isArray(v) ? "array" : typeof v;
}

/** Where `actual` lacks a field of `expected` or has it with another JSON type; [] when it conforms. */
export function shapeDiff(expected: unknown, actual: unknown, path = "$"): string[] {
  const want = kind(expected);
  const got = kind(actual);
  if (want === "null")
    return got === "null" || got === "string" ? [] : [`${path}: ${got}, expected null or string`];
  if (want !== got) return [`${path}: ${got}, expected ${want}`];
  if (want === "array") {
    const shape = (expected as unknown[])[0];
    if (shape === undefined) return [];
    return (actual as unknown[]).flatMap((x, i) => shapeDiff(shape, x, `${path}[${i}]`));
  }
  if (want !== "object") return [];
  const a = actual as Record<string, unknown>;
  return Object.entries(expected as Record<string, unknown>).flatMap(([k, v]) =>
    k in a ? shapeDiff(v, a[k], `${path}.${k}`) : [`${path}.${k}: missing`],
  );
}
