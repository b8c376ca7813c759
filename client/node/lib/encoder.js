'use strict';
// Turns the client's message objects into envelope Messages, Batches and
// Packets. Runs off the caller's turn (in the senders' flush), never on the
// path of an incr() call.
const crypto = require('node:crypto');
const { Message, Batch, Packet, Writer } = require('./envelope');
const { toEnvelopeFields, wellFormed } = require('./fields');

// Random v4 uuids are cut from a pool filled by one getrandom call per 4096.
const UUIDS_PER_POOL = 4096;
let uuidPool = Buffer.alloc(0);
let uuidNext = 0;

function randomUuid() {
  if (uuidNext >= uuidPool.length) {
    uuidPool = crypto.randomBytes(16 * UUIDS_PER_POOL);
    uuidNext = 0;
  }
  const uuid = uuidPool.subarray(uuidNext, uuidNext + 16);
  uuidNext += 16;
  uuid[6] = (uuid[6] & 0x0f) | 0x40;
  uuid[8] = (uuid[8] & 0x3f) | 0x80;
  return uuid;
}

// The router's default limit on one serialized Message (LimitsConfig in
// proto/config.proto): it rejects larger ones.
const MAX_MESSAGE_BYTES = 65536;

// Thrown for a message the router would reject for its size.
class MessageTooLarge extends RangeError {}

// The router rejects a severity outside RFC 5424's 0..7.
function checkNumbers(msg) {
  const { severity, timestamp } = msg;
  if (!Number.isInteger(severity) || severity < 0 || severity > 7) {
    throw new TypeError(`metlog: severity ${String(severity)} is not an integer in 0..7`);
  }
  if (!Number.isFinite(timestamp)) {
    throw new TypeError(`metlog: timestamp ${String(timestamp)} is not a number of milliseconds`);
  }
}

// Text for the envelope: UTF-8 without lone surrogates.
function text(value) {
  return wellFormed(typeof value === 'string' ? value : String(value));
}

function payloadOf(msg) {
  return text(msg.payload ?? '');
}

// The envelope fields of `msg`, as a plain object protobufjs encodes.
// Timestamps are milliseconds since the epoch in messages (Date.now()'s
// unit) and nanoseconds on the wire. Throws a TypeError for a severity or
// timestamp that is not a number the envelope can carry.
function toEnvelope(msg) {
  checkNumbers(msg);
  return {
    uuid: randomUuid(),
    timestamp: Math.round(msg.timestamp * 1e6),
    type: text(msg.type),
    logger: text(msg.logger),
    severity: msg.severity,
    payload: payloadOf(msg),
    envVersion: text(msg.envVersion),
    pid: msg.pid | 0,
    hostname: text(msg.hostname),
    fields: toEnvelopeFields(msg.fields, msg.type),
  };
}

// Parts of a Message that repeat from one message to the next (who sends,
// the type, a metric's name and rate), each encoded once by protobufjs and
// then copied: most of a counter's bytes. Keyed through nested Maps on the
// values themselves, so a lookup hashes strings V8 has already hashed.
// Bounded in entries and in bytes (a part's bytes plus about as much for the
// strings keying it), so that unique huge metric names or loggers cannot
// grow it: a cache that fills is emptied.
const PART_CACHE_LIMIT = 4096;
const PART_CACHE_BYTES = 1024 * 1024;

class PartCache {
  constructor(encode) {
    this.encode = encode;
    this.root = new Map();
    this.size = 0;
    this.bytes = 0;
  }

  get(a, b, c) {
    let level1 = this.root.get(a);
    if (level1 === undefined) this.root.set(a, (level1 = new Map()));
    let level2 = level1.get(b);
    if (level2 === undefined) level1.set(b, (level2 = new Map()));
    let bytes = level2.get(c);
    if (bytes === undefined) {
      if (this.size >= PART_CACHE_LIMIT || this.bytes >= PART_CACHE_BYTES) {
        this.root.clear();
        this.size = 0;
        this.bytes = 0;
        return this.get(a, b, c);
      }
      bytes = this.encode(a, b, c);
      level2.set(c, bytes);
      this.size++;
      this.bytes += bytes.length;
    }
    return bytes;
  }
}

// Fields 3-5 and 7-9: what lies between the per-message fields, so the
// bytes keep protobuf's field order (and equal Message.encode's).
const typeLoggerSeverity = new PartCache((type, logger, severity) =>
  Message.encode({ type: text(type), logger: text(logger), severity }).finish(),
);
const versionPidHost = new PartCache((envVersion, pid, hostname) =>
  Message.encode({ envVersion: text(envVersion), pid: pid | 0, hostname: text(hostname) }).finish(),
);
// A metric's fields: { name } or { name, rate }.
const metricFields = new PartCache((type, name, rate) =>
  Message.encode({ fields: toEnvelopeFields(rate === undefined ? { name } : { name, rate }, type) }).finish(),
);

// True for the fields a metric call builds: a string name and, optionally,
// a numeric rate, nothing else.
function isMetricShape(fields) {
  if (fields == null || typeof fields.name !== 'string') return false;
  let keys = 0;
  for (const key in fields) {
    if (key !== 'name' && !(key === 'rate' && typeof fields.rate === 'number')) return false;
    keys++;
  }
  return keys <= 2;
}

const tag = (field, wireType) => ((Message.fields[field].id << 3) | wireType) >>> 0;
const TAG_UUID = tag('uuid', 2);
const TAG_TIMESTAMP = tag('timestamp', 0);
const TAG_PAYLOAD = tag('payload', 2);
const TAG_BATCH_MESSAGE = ((Batch.fields.messages.id << 3) | 2) >>> 0;

// Encodes Messages straight into one Batch's bytes (field 1,
// length-delimited, in order, as Batch.encode lays them out), so a message
// costs no buffer of its own. The last message added can be taken back,
// for the packet that it would make too big.
class BatchBuilder {
  constructor(maxMessageBytes = MAX_MESSAGE_BYTES) {
    this.maxMessageBytes = maxMessageBytes;
    this.writer = Writer.create();
    this.count = 0;
    this.lastStart = 0;
  }

  // Bytes so far.
  get bytes() {
    return this.writer.pos;
  }

  // Encodes `msg` (a client message object) and returns the bytes it
  // added. The same bytes as Message.encode(toEnvelope(msg)). Throws,
  // having written nothing, when toEnvelope would refuse the message, and
  // MessageTooLarge when its envelope exceeds maxMessageBytes.
  add(msg) {
    checkNumbers(msg);
    const fields = msg.fields;
    let fieldBytes = null;
    let otherFields = null;
    if (isMetricShape(fields)) fieldBytes = metricFields.get(msg.type, fields.name, fields.rate);
    else otherFields = toEnvelopeFields(fields, msg.type);
    // Everything that may throw happens before the first byte is written.
    const header = typeLoggerSeverity.get(msg.type, msg.logger, msg.severity);
    const payload = payloadOf(msg);
    const origin = versionPidHost.get(msg.envVersion, msg.pid, msg.hostname);
    const w = this.writer;
    const start = w.pos;
    w.uint32(TAG_BATCH_MESSAGE).fork();
    w.uint32(TAG_UUID).bytes(randomUuid());
    w.uint32(TAG_TIMESTAMP).int64(Math.round(msg.timestamp * 1e6));
    w.raw(header);
    w.uint32(TAG_PAYLOAD).string(payload);
    w.raw(origin);
    if (fieldBytes !== null) w.raw(fieldBytes);
    else if (otherFields.length > 0) Message.encode({ fields: otherFields }, w);
    // The message's own bytes: after the batch tag and the one byte fork()
    // reserved for its length.
    const messageBytes = w.pos - start - 2;
    if (messageBytes > this.maxMessageBytes) {
      w.ldelim();
      w.pos = start;
      throw new MessageTooLarge(`metlog: message of ${messageBytes} bytes exceeds ${this.maxMessageBytes}`);
    }
    w.ldelim();
    this.lastStart = start;
    this.count++;
    return w.pos - start;
  }

  // The Batch's bytes; without the last message added when `dropLast`.
  finish(dropLast = false) {
    const bytes = this.writer.finish();
    if (!dropLast) return bytes;
    this.count--;
    return bytes.subarray(0, this.lastStart);
  }
}

// A Packet around `batch`, signed when `signer` is given.
function encodePacket(batch, signer) {
  const packet = { batch };
  if (signer) packet.signature = signer.sign(batch);
  return Packet.encode(packet).finish();
}

// Reads a Packet back, for tests and tools: its signature and its messages.
function decodePacket(bytes) {
  const packet = Packet.decode(bytes);
  return { packet, batch: Batch.decode(packet.batch) };
}

module.exports = {
  toEnvelope,
  BatchBuilder,
  MessageTooLarge,
  MAX_MESSAGE_BYTES,
  encodePacket,
  decodePacket,
  Message,
};
