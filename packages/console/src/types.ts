// The API's JSON shapes the console reads (docs/HTTP-API.md). Fields the broker may leave out are optional.
// Invariant: these only describe answers; the console sends what the doc says and nothing it invents.

export type Rates = Record<string, number | { rate?: number } | undefined>;

export interface QueueInfo {
  name: string;
  vhost: string;
  type?: string;
  state?: string;
  durable: boolean;
  auto_delete: boolean;
  exclusive?: boolean;
  arguments: Record<string, unknown>;
  messages?: number;
  messages_ready?: number;
  messages_unacknowledged?: number;
  message_bytes?: number;
  consumers?: number;
  message_stats?: Rates;
  consumer_details?: ConsumerInfo[];
}

export interface ConsumerInfo {
  consumer_tag: string;
  ack_required?: boolean;
  prefetch_count?: number;
  exclusive?: boolean;
  active?: boolean;
  channel_details?: { name?: string; connection_name?: string; peer_host?: string; peer_port?: number };
  queue?: { name: string };
}

export interface ExchangeInfo {
  name: string;
  type: string;
  durable: boolean;
  auto_delete: boolean;
  internal: boolean;
  arguments: Record<string, unknown>;
  message_stats?: Rates;
}

export interface BindingInfo {
  source: string;
  destination: string;
  destination_type: "queue" | "exchange";
  routing_key: string;
  arguments: Record<string, unknown>;
  properties_key: string;
}

export interface ConnectionInfo {
  name: string;
  user?: string;
  protocol?: string;
  peer_host?: string;
  peer_port?: number;
  channels?: number;
  state?: string;
  connected_at?: number;
  client_properties?: { product?: string; connection_name?: string };
}

export interface ChannelInfo {
  name: string;
  number?: number;
  connection_details?: { name?: string };
  consumer_count?: number;
  messages_unacknowledged?: number;
  messages_unconfirmed?: number;
  prefetch_count?: number;
  confirm?: boolean;
  transactional?: boolean;
  state?: string;
}

export interface PeekMessage {
  position: number;
  state: "ready" | "unacked";
  exchange: string;
  routing_key: string;
  redelivered: boolean;
  properties: { headers?: Record<string, unknown> } & Record<string, unknown>;
  payload: string;
  payload_bytes: number;
  payload_encoding: "string" | "base64";
}

export interface TopicInfo {
  name: string;
  partitions: number;
  messages?: number;
  configs?: Record<string, string>;
  internal?: boolean;
}

export interface TopicDetail {
  name: string;
  configs?: Record<string, string>;
  partitions: { partition: number; start_offset: number; end_offset: number; messages?: number }[];
}

export interface RecordInfo {
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  key_encoding?: string;
  headers?: Record<string, string | null | (string | null)[]>;
  headers_encoding?: "string" | "base64";
  value: string | null;
  value_encoding?: "json" | "string" | "base64";
}

export interface GroupInfo {
  group_id: string;
  state: string;
  protocol_type?: string;
  members: number;
  lag?: number;
}

export interface GroupDetail {
  group_id: string;
  state: string;
  protocol_type?: string;
  protocol?: string;
  members: {
    member_id: string;
    client_id?: string;
    client_host?: string;
    assignment?: { topic: string; partition: number }[];
  }[];
  offsets: {
    topic: string;
    partition: number;
    committed_offset: number;
    end_offset: number;
    lag: number;
    metadata?: string | null;
  }[];
}

export interface TxnInfo {
  transactional_id: string;
  state: string;
  producer_id: number;
  producer_epoch: number;
  timeout_ms: number;
  started_ms: number | null;
  duration_ms: number | null;
  partitions: number;
  groups: number;
}

export interface TxnDetail extends Omit<TxnInfo, "partitions" | "groups"> {
  updated_ms: number;
  partitions: {
    topic: string;
    partition: number;
    first_offset: number;
    last_stable_offset: number | null;
    end_offset: number | null;
  }[];
  groups: string[];
  pending_offsets: { group_id: string; topic: string; partition: number; offset: number }[];
}
