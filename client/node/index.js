'use strict';
// metlog: send counters, timers, gauges, logs and exceptions from Node.js to
// a Metlog router. See README.md (the repository's "From Node.js").
const { MetlogClient } = require('./lib/client');
const { SEVERITY } = require('./lib/severity');
const { ZmqSender } = require('./lib/zmq_sender');
const { UdpSender } = require('./lib/udp_sender');
const { StdoutSender } = require('./lib/stdout_sender');
const { CaptureSender } = require('./lib/capture_sender');
const { PacketSigner } = require('./lib/signer');
const { clientFromConfig, clientFromEnv } = require('./lib/config');
const { decodePacket } = require('./lib/encoder');
const filters = require('./lib/filters');

module.exports = {
  MetlogClient,
  SEVERITY,
  ZmqSender,
  UdpSender,
  StdoutSender,
  CaptureSender,
  PacketSigner,
  clientFromConfig,
  clientFromEnv,
  decodePacket,
  filters,
};
