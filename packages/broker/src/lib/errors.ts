// Operating errors: one class, one catalogue of codes. Each gateway maps every code to its protocol
// with a Record<ErrorCode, …> so the compiler rejects a code that a gateway forgot.

export const ERROR_CODES = {
  LOG_FAILED: { retriable: false, what: "the log refuses writes after a failed write or fsync" },
  LOG_CLOSED: { retriable: false, what: "the log was closed" },
  DISK_FULL: {
    retriable: true,
    what: "the disk is full: the log refuses writes until space is freed, then accepts them again",
  },
  CORRUPT_RECORD: { retriable: false, what: "a stored or received batch failed its length or CRC check" },
  INVALID_RECORD: { retriable: false, what: "a record batch is malformed" },
  OFFSET_OUT_OF_RANGE: { retriable: false, what: "the offset is outside the log" },
  MESSAGE_TOO_LARGE: { retriable: false, what: "the message exceeds its size limit" },
  LIMIT_EXCEEDED: { retriable: true, what: "a declared limit was reached" },
  NOT_FOUND: { retriable: false, what: "the named entity does not exist" },
  ALREADY_EXISTS: { retriable: false, what: "the named entity already exists" },
  INVALID_CONFIG: { retriable: false, what: "a configuration value is invalid" },
  STORAGE_UNAVAILABLE: { retriable: false, what: "the data directory cannot be used" },
  PRECONDITION_FAILED: {
    retriable: false,
    what: "the entity exists with other properties, or a precondition of the request does not hold",
  },
  RESOURCE_LOCKED: { retriable: false, what: "the entity is exclusive to another connection" },
  ACCESS_REFUSED: { retriable: false, what: "the request is not allowed on this entity or name" },
  INVALID_NAME: { retriable: false, what: "a name (topic, group, …) breaks the naming rules" },
  INVALID_PARTITIONS: { retriable: false, what: "a partition count or index is invalid" },
  INVALID_REQUEST: { retriable: false, what: "a request is well-formed but not allowed" },
  RESOURCE_LIMIT: {
    retriable: false,
    what: "the broker's budget of a resource (file descriptors for logs) cannot take this",
  },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class BrokerError extends Error {
  override name = "BrokerError";
  readonly retriable: boolean;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.retriable = ERROR_CODES[code].retriable;
  }
}

export function isBrokerError(e: unknown, code?: ErrorCode): e is BrokerError {
  return e instanceof BrokerError && (code === undefined || e.code === code);
}
