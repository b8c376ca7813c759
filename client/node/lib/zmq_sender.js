'use strict';
// PUSH over ZeroMQ to one or more routers (npm `zeromq` 6). ZeroMQ spreads
// packets over the connected routers and reconnects by itself when one comes
// back; with none connected, or all of them full, a packet is refused at once
// (sendTimeout 0) and counted rather than waited for.
const zmq = require('zeromq');
const { QueuedSender } = require('./queued_sender');

const ZMQ_DEFAULTS = Object.freeze({
  sendHighWaterMark: 1000, // packets ZeroMQ buffers per connected router
  lingerMs: 500, // how long closing may wait for buffered packets to leave
});

class ZmqTransport {
  constructor(endpoints, { sendHighWaterMark, zmqLingerMs, curve }) {
    this.socket = new zmq.Push({
      // Queue only for routers actually connected, so that with none a send
      // is refused at once and counted instead of filling a buffer forever.
      immediate: true,
      sendHighWaterMark,
      sendTimeout: 0,
      linger: zmqLingerMs,
    });
    if (curve != null) {
      this.socket.curveServerKey = curve.serverPublicKey;
      this.socket.curvePublicKey = curve.publicKey;
      this.socket.curveSecretKey = curve.secretKey;
    }
    for (const endpoint of endpoints) this.socket.connect(endpoint);
  }

  send(bytes) {
    return this.socket.send(bytes);
  }

  isRefusal(error) {
    return error != null && error.code === 'EAGAIN';
  }

  async close() {
    this.socket.close();
  }
}

class ZmqSender extends QueuedSender {
  // `endpoints`: a string or an array of them, e.g. "tcp://127.0.0.1:5565".
  // Options: queueCapacity, queueBytes, maxPacketBytes, maxBatchMessages,
  // lingerMs, unsentGraceMs, closeTimeoutMs, signer, and for ZeroMQ
  // sendHighWaterMark, zmqLingerMs and curve { serverPublicKey, publicKey,
  // secretKey } (Z85). Throws on a malformed endpoint; an absent router is
  // not an error.
  constructor(endpoints, options = {}) {
    const list = typeof endpoints === 'string' ? [endpoints] : endpoints;
    if (!Array.isArray(list) || list.length === 0) {
      throw new TypeError('metlog: ZmqSender needs at least one endpoint');
    }
    const {
      sendHighWaterMark = ZMQ_DEFAULTS.sendHighWaterMark,
      zmqLingerMs = ZMQ_DEFAULTS.lingerMs,
      curve,
      ...queueOptions
    } = options;
    super(new ZmqTransport(list, { sendHighWaterMark, zmqLingerMs, curve }), queueOptions);
    this.endpoints = list.slice();
  }
}

module.exports = { ZmqSender };
