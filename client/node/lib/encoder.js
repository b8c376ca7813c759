'use strict';
// Turns the client's message objects into envelope Messages, Batches and
// Packets. Runs off the caller's turn (in the senders' flush), never on the
// path of an incr() call.
const crypto = require('node:crypto');
const { Message, Batch, Packet, Writer } = require('./envelope');
const { toEnvelopeFields } = require('./fields');

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

// The envelope fields of `msg`, as a plain object protobufjs encodes.
// Timestamps are milliseconds since the epoch in messages (Date.now()'s
// unit) and nanoseconds on the wire.
function toEnvelope(msg) {
  const envelope = {
    uuid: randomUuid(),
    timestamp: Math.round(msg.timestamp * 1e6),
    type: msg.type,
    logger: msg.logger,
    severity: msg.severity,
    payload: msg.payload,
    envVersion: msg.envVersion,
    pid: msg.pid,
    hostname: msg.hostname,
    fields: toEnvelopeFields(msg.fields, msg.type),
  };
  if (typeof envelope.payload !== 'string') envelope.payload = String(envelope.payload ?? '');
  return envelope;
}

// The serialized Message.
function encodeMessage(msg) {
  return Message.encode(toEnvelope(msg)).finish();
}

// Bytes a message of `length` bytes adds to a Batch: tag, varint length, body.
function sizeInBatch(length) {
  let varint = 1;
  for (let rest = length >>> 7; rest > 0; rest >>>= 7) varint++;
  return 1 + varint + length;
}

// Accumulates serialized Messages into one Batch, as Batch.encode would lay
// them out (field 1, length-delimited, in order).
class BatchBuilder {
  constructor() {
    this.writer = Writer.create();
    this.bytes = 0;
    this.count = 0;
  }

  add(encodedMessage) {
    this.writer.uint32((1 << 3) | 2).bytes(encodedMessage);
    this.bytes += sizeInBatch(encodedMessage.length);
    this.count++;
  }

  finish() {
    return this.writer.finish();
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

module.exports = { toEnvelope, encodeMessage, sizeInBatch, BatchBuilder, encodePacket, decodePacket, Message };
