'use strict';
// Real sockets for the sender tests: a ZeroMQ PULL socket and a UDP socket
// on 127.0.0.1 and a free port, collecting decoded Packets.
const dgram = require('node:dgram');
const zmq = require('zeromq');
const { decodePacket } = require('..');

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
async function startPull(endpoint = 'tcp://127.0.0.1:*') {
  const socket = new zmq.Pull({ linger: 0 });
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
    socket.close();
    await receiving;
  };
  return collector;
}

async function startUdp() {
  const socket = dgram.createSocket('udp4');
  await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const collector = new PacketCollector();
  collector.address = `127.0.0.1:${socket.address().port}`;
  collector.datagramSizes = [];
  socket.on('message', (raw) => {
    collector.datagramSizes.push(raw.length);
    collector.add(raw);
  });
  collector.close = () => new Promise((resolve) => socket.close(resolve));
  return collector;
}

// The value list of envelope field `name` in a decoded Message.
function fieldOf(message, name) {
  return message.fields.find((f) => f.name === name);
}

module.exports = { startPull, startUdp, fieldOf };
