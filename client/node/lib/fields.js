'use strict';
// Turns a message's `fields` object (what filters and the capture sender see,
// as metlog-py's dict) into typed envelope Fields. JavaScript has one number
// type, so integers become INTEGER and the rest DOUBLE, except `rate` on
// counters and timers, which the metric convention (DESIGN.md) makes DOUBLE.
const { ValueType, Long } = require('./envelope');

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function kindOf(value) {
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isSafeInteger(value) ? 'integer' : 'double';
    case 'bigint':
      return value >= INT64_MIN && value <= INT64_MAX ? 'bigint' : 'other';
    default:
      return value instanceof Uint8Array ? 'bytes' : 'other';
  }
}

// Anything without an envelope type travels as text: JSON for plain data,
// String() when JSON cannot represent it (cycles, functions).
function asText(value) {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') {
    try {
      const json = JSON.stringify(value);
      if (json !== undefined) return json;
    } catch (_) {
      // Falls through to String().
    }
  }
  return String(value);
}

// UTF-8 cannot carry lone surrogates: they become U+FFFD. Node 20 has
// toWellFormed(); the engines field allows Node 18, where a /u regex (which
// sees a valid pair as one code point) finds them.
const LONE_SURROGATES = /\p{Surrogate}/gu;
const wellFormed =
  typeof String.prototype.toWellFormed === 'function'
    ? (string) => (string.isWellFormed() ? string : string.toWellFormed())
    : (string) => string.replace(LONE_SURROGATES, '\ufffd');

function typedField(name, values, kind, forceDouble) {
  if (forceDouble && (kind === 'integer' || kind === 'double')) kind = 'double';
  switch (kind) {
    case 'string':
      return { name, valueString: values.map(wellFormed) };
    case 'bool':
      return { name, valueType: ValueType.BOOL, valueBool: values };
    case 'integer':
      return { name, valueType: ValueType.INTEGER, valueInteger: values };
    case 'bigint':
      return {
        name,
        valueType: ValueType.INTEGER,
        valueInteger: values.map((v) => Long.fromString(v.toString())),
      };
    case 'double':
      return { name, valueType: ValueType.DOUBLE, valueDouble: values };
    case 'bytes':
      return { name, valueType: ValueType.BYTES, valueBytes: values };
    default:
      return { name, valueString: values.map((v) => wellFormed(asText(v))) };
  }
}

// One list's common kind: integers mixed with doubles are doubles; any other
// mix is text.
function commonKind(values) {
  let kind = kindOf(values[0]);
  for (let i = 1; i < values.length; i++) {
    const next = kindOf(values[i]);
    if (next === kind) continue;
    const numeric = (k) => k === 'integer' || k === 'double';
    kind = numeric(kind) && numeric(next) ? 'double' : 'other';
  }
  return kind;
}

// `value` as the encoder will read it, taken now: a list is copied (without
// its null and undefined entries), and what travels as text (plain objects,
// Dates, lists of mixed kinds ...) becomes that text. The encoder gives
// the same bytes for the result as for `value`. A queue keeps the result,
// so what it holds and charges is what will be sent, not the application's
// object graph, which may be any size and may change after the call.
// Returns `value` itself when there is nothing to take.
function snapshotValue(value) {
  if (value == null) return value;
  if (Array.isArray(value)) {
    const present = value.filter((v) => v != null);
    return present.length > 0 && commonKind(present) === 'other' ? present.map(asText) : present;
  }
  return kindOf(value) === 'other' ? asText(value) : value;
}

// `type` is the message's type (for the rate convention). null and undefined
// values are left out, as a field with no value carries nothing. Throws a
// TypeError for a field without a name, which the router rejects.
function toEnvelopeFields(fields, type) {
  const out = [];
  if (fields == null) return out;
  const metric = type === 'counter' || type === 'timer';
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    if (key === '') throw new TypeError('metlog: a field needs a name');
    const name = wellFormed(key);
    if (value == null) continue;
    const forceDouble = metric && name === 'rate';
    if (Array.isArray(value)) {
      const present = value.filter((v) => v != null);
      if (present.length === 0) continue;
      out.push(typedField(name, present, commonKind(present), forceDouble));
    } else {
      out.push(typedField(name, [value], kindOf(value), forceDouble));
    }
  }
  return out;
}

module.exports = { toEnvelopeFields, snapshotValue, wellFormed };
