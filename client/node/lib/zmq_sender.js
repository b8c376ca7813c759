'use strict';
// PUSH over ZeroMQ to one or more routers (npm `zeromq` 6). ZeroMQ spreads
// packets over the connected routers and reconnects by itself when one comes
// back; with none connected, or all of them full, a packet is refused at once
// (sendTimeout 0) and counted rather than waited for.
//
// Memory: the queue is bounded by queueBytes; the packet being built and
// handed over is at most maxPacketBytes (128 KiB); ZeroMQ holds at most
// sendHighWaterMark packets per connected router plus the one being written
// (with the defaults 33 x 128 KiB, about 4 MiB per router), and the kernel
// its socket buffers. A router that stops reading costs drops, not memory.
const zmq = require('zeromq');
const { endpointsProblem } = require('./endpoint');
const { QueuedSender, NO_TRANSPORT } = require('./queued_sender');

const ZMQ_DEFAULTS = Object.freeze({
  // Packets ZeroMQ buffers per connected router: with maxPacketBytes, the
  // bound on ZeroMQ's memory per router (as the C++ client's send_hwm).
  sendHighWaterMark: 32,
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
      // Without it ZeroMQ accepts an IPv6 endpoint but never connects.
      ipv6: endpoints.some((endpoint) => endpoint.startsWith('tcp://[')),
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

// The transport, or why it cannot be made (zeromq may still refuse an
// endpoint the check passed).
function makeTransport(list, zmqOptions) {
  const problem = endpointsProblem(list);
  if (problem !== null) return { problem };
  try {
    return { transport: new ZmqTransport(list, zmqOptions) };
  } catch (error) {
    return { problem: `cannot connect to ${list.join(', ')}: ${error.message ?? error}` };
  }
}

class ZmqSender extends QueuedSender {
  // `endpoints`: a string or an array of them, e.g. "tcp://127.0.0.1:5565".
  // Options: queueCapacity, queueBytes, maxPacketBytes, maxBatchMessages,
  // lingerMs, unsentGraceMs, closeTimeoutMs, signer, and for ZeroMQ
  // sendHighWaterMark, zmqLingerMs and curve { serverPublicKey, publicKey,
  // secretKey } (Z85). An absent router is not an error. As the C++ client,
  // it never throws on a bad endpoint: endpoints that cannot work (none, or
  // one malformed) leave a sender that drops and counts every message
  // (droppedNoSender), whose status() says why, also emitted once as a
  // process warning. A misspelt option is the program's own mistake, and
  // throws.
  constructor(endpoints, options = {}) {
    const list = typeof endpoints === 'string' ? [endpoints] : endpoints;
    const {
      sendHighWaterMark = ZMQ_DEFAULTS.sendHighWaterMark,
      zmqLingerMs = ZMQ_DEFAULTS.lingerMs,
      curve,
      ...queueOptions
    } = options;
    QueuedSender.checkOptions(queueOptions);
    const { transport, problem } = makeTransport(list, { sendHighWaterMark, zmqLingerMs, curve });
    super(transport ?? NO_TRANSPORT, queueOptions);
    this.endpoints = Array.isArray(list) ? list.slice() : [];
    if (problem !== undefined) this.dropEverything(problem);
  }
}

module.exports = { ZmqSender };
