// Type declarations for the metlog package (every public name of index.js).

/** RFC 5424 severities, as metlog-py names them. */
export declare const SEVERITY: Readonly<{
  EMERGENCY: 0;
  ALERT: 1;
  CRITICAL: 2;
  ERROR: 3;
  WARNING: 4;
  NOTICE: 5;
  INFORMATIONAL: 6;
  DEBUG: 7;
}>;

/** A value a message field may hold; others are sent as JSON text. */
export type FieldScalar = string | number | bigint | boolean | Uint8Array | Date | object;
export type FieldValue = FieldScalar | FieldScalar[] | null | undefined;
export type Fields = Record<string, FieldValue>;

/**
 * A message as the client builds it and as filters and CaptureSender see
 * it (metlog-py's dict, camelCased). `timestamp` is in milliseconds since
 * the epoch, with a fraction; the wire carries nanoseconds.
 */
export interface MetlogMessage {
  type: string;
  timestamp: number;
  logger: string;
  severity: number;
  payload: string;
  fields: Fields;
  envVersion: string;
  pid: number;
  hostname: string;
}

/** Returns true when the message should be sent; may change it. */
export type Filter = (msg: MetlogMessage) => boolean;

/** What every sender counts. Queued senders add the rest. */
export interface SenderStats {
  sent: number;
  queued: number;
  packetsSent?: number;
  droppedQueueFull?: number;
  droppedUnsent?: number;
  droppedOversized?: number;
  droppedInvalid?: number;
  droppedClosed?: number;
  /** Dropped because the sender's endpoints cannot work (see status()). */
  droppedNoSender?: number;
  queuedBytes?: number;
  lastError?: string | null;
}

export interface ClientStats extends SenderStats {
  /** Refused by a filter. */
  filtered: number;
  /** Skipped by sampling (rate < 1), by design. */
  sampledOut: number;
  /** Dropped because a filter or the sender threw, or the call's arguments could not make a message. */
  failed: number;
  /** Dropped because the client has no sender, or its sender's endpoints cannot work. */
  droppedNoSender: number;
}

/** Anything with send(msg) can be a sender. */
export interface Sender {
  send(msg: MetlogMessage): void;
  flush?(): Promise<void>;
  close?(): Promise<unknown>;
  stats?(): Partial<SenderStats>;
}

export interface ClientOptions {
  sender?: Sender | null;
  logger?: string;
  severity?: number;
  disabledTimers?: Iterable<string>;
  filters?: Iterable<Filter>;
}

/** Options every call may take. */
export interface CallOptions {
  logger?: string;
  severity?: number;
  fields?: Fields;
  /** A Date, milliseconds since the epoch, or nanoseconds as a bigint. */
  timestamp?: Date | number | bigint;
}

export interface MetlogOptions extends CallOptions {
  payload?: unknown;
}

export interface IncrOptions extends CallOptions {
  count?: number;
  rate?: number;
}

export interface RateOptions extends CallOptions {
  rate?: number;
}

export interface ExceptionOptions extends CallOptions {
  payload?: unknown;
}

export declare class MetlogClient {
  constructor(options?: ClientOptions);
  sender: Sender | null;
  logger: string;
  severity: number;
  disabledTimers: Set<string>;
  filters: Filter[];
  readonly hostname: string;
  readonly pid: number;
  /** True once a sender is set. */
  readonly isActive: boolean;
  /** Runs the filters and hands msg to the sender. */
  sendMessage(msg: MetlogMessage): void;
  metlog(type: string, options?: MetlogOptions): void;
  incr(name: string, options?: IncrOptions): void;
  timerSend(name: string, ms: number, options?: RateOptions): void;
  gauge(name: string, value: number, options?: CallOptions): void;
  /** Wraps fn so each call sends a timer; async functions are timed until they settle. */
  timer<F extends (...args: any[]) => any>(name: string, fn: F, options?: RateOptions): F;
  timerDisabled(name: string): boolean;
  debug(payload: unknown, options?: CallOptions): void;
  info(payload: unknown, options?: CallOptions): void;
  warn(payload: unknown, options?: CallOptions): void;
  error(payload: unknown, options?: CallOptions): void;
  critical(payload: unknown, options?: CallOptions): void;
  log(severity: number, payload: unknown, options?: CallOptions): void;
  exception(err: unknown, options?: ExceptionOptions): void;
  addMethod(name: string, method: (this: MetlogClient, ...args: any[]) => unknown, options?: { override?: boolean }): void;
  flush(): Promise<void>;
  /** Hands queued messages to the transport (or drops and counts them); never rejects. */
  close(): Promise<ClientStats>;
  stats(): ClientStats;
  /** Methods added with addMethod. */
  [extension: string]: unknown;
}

export interface SignerOptions {
  name: string;
  keyVersion?: number;
  /** A string is taken as UTF-8. */
  key: string | Uint8Array;
}

/** HMAC-SHA256 over a Packet's batch bytes, as the C++ client signs. */
export declare class PacketSigner {
  constructor(options: SignerOptions);
  readonly name: string;
  readonly keyVersion: number;
  sign(batch: Uint8Array): { signer: string; keyVersion: number; hmacSha256: Uint8Array };
}

export interface QueuedSenderOptions {
  /** Messages queued or being sent before new ones are dropped (65536). */
  queueCapacity?: number;
  /** Their encoded size (from above; object values as their JSON text) before new ones are dropped (16 MiB). */
  queueBytes?: number;
  /** Largest Packet (128 KiB; UDP caps it at 65507). */
  maxPacketBytes?: number;
  /** Largest serialized Message; larger ones are dropped as oversized (64 KiB, the router's limit). */
  maxMessageBytes?: number;
  /** Most messages per Packet (1024). */
  maxBatchMessages?: number;
  /** Longest a message waits for its packet to fill (5 ms). */
  lingerMs?: number;
  /** How long a refused packet is retried while the transport was up (250 ms). */
  unsentGraceMs?: number;
  /** How long close() may take before what is left is dropped (2000 ms). */
  closeTimeoutMs?: number;
  signer?: SignerOptions | PacketSigner;
}

export interface ZmqSenderOptions extends QueuedSenderOptions {
  /** Packets ZeroMQ buffers per connected router (32); with maxPacketBytes, ZeroMQ's memory bound per router. */
  sendHighWaterMark?: number;
  /** How long closing the socket may wait for buffered packets (500 ms). */
  zmqLingerMs?: number;
  /** CURVE keys, Z85-encoded. */
  curve?: { serverPublicKey: string; publicKey: string; secretKey: string };
}

declare class QueuedSender implements Sender {
  send(msg: MetlogMessage): void;
  flush(): Promise<void>;
  close(): Promise<SenderStats>;
  stats(): SenderStats;
  /** Why the sender drops every message (its endpoints cannot work), or null. */
  status(): string | null;
}

/** PUSH over ZeroMQ to one or more routers; never blocks, throws or rejects, not even on a bad endpoint (see status()). */
export declare class ZmqSender extends QueuedSender {
  constructor(endpoints: string | string[], options?: ZmqSenderOptions);
  readonly endpoints: string[];
}

export interface UdpSenderOptions extends QueuedSenderOptions {
  /** Resolves the host name, as dns.lookup (the default); asked once per 30 s, not per datagram. */
  lookup?: (
    hostname: string,
    options: unknown,
    callback: (error: Error | null, address: string, family: number) => void,
  ) => void;
}

/** One Packet per UDP datagram to "host:port"; never throws, not even on a bad address (see status()). */
export declare class UdpSender extends QueuedSender {
  constructor(address: string, options?: UdpSenderOptions);
  readonly address: string;
}

/** JSON lines (protobuf's JSON mapping) on a stream, stdout by default. */
export declare class StdoutSender implements Sender {
  constructor(options?: { stream?: { write(chunk: string): unknown } });
  send(msg: MetlogMessage): void;
  flush(): Promise<void>;
  close(): Promise<SenderStats>;
  stats(): SenderStats;
}

/** Keeps the last `limit` (1000) messages, for tests. */
export declare class CaptureSender implements Sender {
  constructor(options?: { limit?: number });
  limit: number;
  messages: MetlogMessage[];
  clear(): void;
  send(msg: MetlogMessage): void;
  flush(): Promise<void>;
  close(): Promise<SenderStats>;
  stats(): SenderStats;
}

export type SenderConfig =
  | ({ type?: 'zmq'; endpoints?: string[] } & ZmqSenderOptions)
  | ({ type: 'udp'; address?: string } & QueuedSenderOptions)
  | { type: 'stdout' }
  | { type: 'capture'; limit?: number };

export interface ClientConfig {
  logger?: string;
  severity?: number;
  disabledTimers?: string[];
  filters?: {
    severityMax?: number;
    typeBlacklist?: string[];
    typeWhitelist?: string[];
    typeSeverityMax?: Record<string, number>;
  };
  sender?: SenderConfig;
}

/** A client from a JSON config; METLOG_ENDPOINT / METLOG_LOGGER in env (process.env; null ignores it) win. */
export declare function clientFromConfig(
  config: ClientConfig,
  options?: { env?: Record<string, string | undefined> | null },
): MetlogClient;

/** A ZeroMQ client to METLOG_ENDPOINT (else tcp://127.0.0.1:5565). */
export declare function clientFromEnv(logger?: string, env?: Record<string, string | undefined>): MetlogClient;

/** Decodes one Packet (a ZeroMQ message or UDP datagram), for tests and tools. */
export declare function decodePacket(bytes: Uint8Array): {
  packet: { batch: Uint8Array; signature?: { signer: string; keyVersion: number; hmacSha256: Uint8Array } | null };
  batch: { messages: Array<Record<string, any>> };
};

/** Filter providers, as metlog-py's metlog.filters. */
export declare const filters: {
  severityMax(severity: number): Filter;
  typeBlacklist(types: Iterable<string>): Filter;
  typeWhitelist(types: Iterable<string>): Filter;
  typeSeverityMax(maxima: Record<string, number>): Filter;
};
