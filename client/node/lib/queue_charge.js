'use strict';
// What a queued sender keeps of a message and charges for it against
// queueBytes. The message is kept as the encoder will read it (see
// snapshotValue: an object field becomes its JSON text now, not later), and
// its charge is its encoded size from above, so that queueBytes bounds what
// the queue holds whatever the fields' values are.
const { snapshotValue } = require('./fields');

// A Message's bytes besides its strings and fields, from above: its tag and
// length in the Batch (4), uuid (18), timestamp (11), severity (2), pid (11),
// and a tag and length for each of its five strings (30).
const MESSAGE_BYTES = 96;
// A Field's bytes besides its name's and its values' own: its tag and length
// in the Message, its name's, value_type, and a packed list's (20).
const FIELD_BYTES = 24;
// A field value that is not a string or byte array: a varint (at most 10)
// or a double (8).
const NUMBER_BYTES = 10;

// A string's UTF-8 bytes: what the envelope carries (a lone surrogate
// becomes U+FFFD's three, as wellFormed() makes it), and never less than V8
// holds for it (a byte a character for Latin-1 text, two for the rest).
function textBytes(text) {
  return Buffer.byteLength(text, 'utf8');
}

// textBytes() from above, for a call's few texts: a short string is charged
// the most UTF-8 needs for its UTF-16 units (3 each) rather than measured,
// as measuring would cost a counter's call more than the bytes it saves.
const MEASURED_TEXT_CHARS = 32;

function quickTextBytes(text) {
  return text.length > MEASURED_TEXT_CHARS ? Buffer.byteLength(text, 'utf8') : 3 * text.length;
}

// A length-delimited value: its tag, its length's varint, itself.
function delimitedBytes(bytes) {
  return bytes < 128 ? 2 + bytes : bytes < 16384 ? 3 + bytes : 6 + bytes;
}

// A scalar field value's bytes (its text's by `measure`), or -1 for a value
// the queue must snapshot first (a list, or one that travels as text).
function scalarBytes(value, measure) {
  switch (typeof value) {
    case 'string':
      return delimitedBytes(measure(value));
    case 'number':
      return NUMBER_BYTES;
    case 'bigint':
      // Beyond int64 it travels as its decimal text.
      return BigInt.asIntN(64, value) === value ? NUMBER_BYTES : -1;
    case 'boolean':
      return 1;
    case 'undefined':
      return 0;
    default:
      if (value === null) return 0;
      if (value instanceof Uint8Array) return delimitedBytes(value.byteLength);
      return -1;
  }
}

// The bytes of everything in a message but its fields, its texts being
// strings.
function headerBytes(msg, measure) {
  const bytes = MESSAGE_BYTES + measure(msg.type) + measure(msg.logger) + measure(msg.hostname);
  return bytes + measure(msg.envVersion) + measure(msg.payload);
}

// The charge of `msg` when it can be queued as it is (strings where the
// envelope has strings, scalar field values), else -1. A counter's path.
function chargeAsIs(msg) {
  if (
    typeof msg.type !== 'string' ||
    typeof msg.logger !== 'string' ||
    typeof msg.hostname !== 'string' ||
    typeof msg.envVersion !== 'string' ||
    typeof msg.payload !== 'string'
  ) {
    return -1;
  }
  let bytes = headerBytes(msg, quickTextBytes);
  const fields = msg.fields;
  if (fields == null) return bytes;
  for (const name in fields) {
    const valueBytes = scalarBytes(fields[name], quickTextBytes);
    if (valueBytes < 0) return -1;
    bytes += FIELD_BYTES + quickTextBytes(name) + valueBytes;
  }
  return bytes;
}

// A copy of `msg` as the encoder reads it: texts as strings, field values
// snapshotted (own keys only, as the encoder takes them). Throws what
// String() or a getter throws.
function snapshotMessage(msg) {
  const copy = { ...msg };
  for (const key of ['type', 'logger', 'hostname', 'envVersion']) copy[key] = String(msg[key]);
  copy.payload = String(msg.payload ?? '');
  const fields = {};
  if (msg.fields != null) {
    for (const name of Object.keys(msg.fields)) fields[name] = snapshotValue(msg.fields[name]);
  }
  copy.fields = fields;
  return copy;
}

// The charge of a snapshotMessage(), its texts measured: at least its
// encoded size.
function chargeOfSnapshot(msg) {
  let bytes = headerBytes(msg, textBytes);
  for (const name of Object.keys(msg.fields)) {
    const value = msg.fields[name];
    bytes += FIELD_BYTES + textBytes(name);
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) bytes += scalarBytes(value[i], textBytes);
    } else {
      bytes += scalarBytes(value, textBytes);
    }
  }
  return bytes;
}

module.exports = { chargeAsIs, snapshotMessage, chargeOfSnapshot };
