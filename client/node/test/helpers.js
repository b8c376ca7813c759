'use strict';
// Real sockets for the sender tests: a ZeroMQ PULL socket and a UDP socket
// on 127.0.0.1 and a free port, collecting decoded Packets.
const dgram = require('node:dgram');
const { after } = require('node:test');
const zmq = require('zeromq');
const { decodePacket } = require('..');

// Every socket still open when the file's tests end: a test that fails
// before its own close() must not keep the process (and bazel test) waiting
// until the timeout instead of reporting the failure.
const openCollectors = new Set();
after(async () => {
  for (const collector of openCollectors) await collector.close();
});

class PacketCollector {
  constructor() {
    this.packets = []; // { raw, packet, batch }
  }

  get messages() {
    return this.packets.flatMap((p) => p.batch.messages);
  }

  add(raw) {
    this.packets.push({ raw, ...decodePacket(raw) });
  }

  // Resolves once `count` messages have arrived (rejects after timeoutMs).
  async waitForMessages(count, timeoutMs = 10000) {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < count) {
      if (Date.now() > deadline) {
        throw new Error(`waited for ${count} messages, have ${this.messages.length}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.messages;
  }
}

// A PULL socket bound to a free port (or `endpoint`), collecting until closed.
async function startPull(endpoint = 'tcp://127.0.0.1:*', { ipv6 = false } = {}) {
  const socket = new zmq.Pull({ linger: 0, ipv6 });
  await socket.bind(endpoint);
  const collector = new PacketCollector();
  collector.endpoint = socket.lastEndpoint;
  const receiving = (async () => {
    try {
      for await (const [raw] of socket) collector.add(raw);
    } catch (error) {
      if (!socket.closed) throw error;
    }
  })();
  collector.close = async () => {
    openCollectors.delete(collector);
    if (!socket.closed) socket.close();
    await receiving;
  };
  openCollectors.add(collector);
  return collector;
}

// Room for a burst of full datagrams (a sender has up to 16 in flight), so
// that a test process busy elsewhere loses none: the default 208 KiB holds
// three.
const UDP_RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

async function startUdp() {
  const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: UDP_RECEIVE_BUFFER_BYTES });
  await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const collector = new PacketCollector();
  collector.address = `127.0.0.1:${socket.address().port}`;
  collector.datagramSizes = [];
  socket.on('message', (raw) => {
    collector.datagramSizes.push(raw.length);
    collector.add(raw);
  });
  let closed = null;
  collector.close = () => {
    openCollectors.delete(collector);
    closed ??= new Promise((resolve) => socket.close(resolve));
    return closed;
  };
  openCollectors.add(collector);
  return collector;
}

// The value list of envelope field `name` in a decoded Message.
function fieldOf(message, name) {
  return message.fields.find((f) => f.name === name);
}

module.exports = { startPull, startUdp, fieldOf };
