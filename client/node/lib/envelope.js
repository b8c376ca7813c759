'use strict';
// The wire envelope (proto/metlog.proto, package metlog.v1) through
// protobufjs, loaded from the .proto file when this module is first required:
// the .proto stays the one source of truth, and protobufjs compiles an
// encoder per type at load, as fast as generated static code (see README).
const fs = require('node:fs');
const path = require('node:path');
const protobuf = require('protobufjs');

// In a published package the file sits in ./proto (copied by `npm pack`'s
// prepack script); in the repository and in Bazel's runfiles tree it is the
// workspace's proto/metlog.proto.
const PROTO_CANDIDATES = [
  path.join(__dirname, '..', 'proto', 'metlog.proto'),
  path.join(__dirname, '..', '..', '..', 'proto', 'metlog.proto'),
];

function findProto() {
  const found = PROTO_CANDIDATES.find((candidate) => fs.existsSync(candidate));
  if (found === undefined) {
    throw new Error(`metlog: metlog.proto not found in ${PROTO_CANDIDATES.join(' or ')}`);
  }
  return found;
}

const root = protobuf.loadSync(findProto());
const Message = root.lookupType('metlog.v1.Message');
const Batch = root.lookupType('metlog.v1.Batch');
const Packet = root.lookupType('metlog.v1.Packet');
const ValueType = root.lookupEnum('metlog.v1.Field.ValueType').values;

module.exports = { Message, Batch, Packet, ValueType, Writer: protobuf.Writer, Long: protobuf.util.Long };
