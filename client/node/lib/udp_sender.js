'use strict';
// One Packet per UDP datagram (node:dgram), each kept under the largest UDP
// payload. UDP tells the sender nothing about delivery: a datagram the
// kernel accepted counts as sent.
const dgram = require('node:dgram');
const net = require('node:net');
const { QueuedSender } = require('./queued_sender');

// The largest UDP payload over IPv4.
const MAX_UDP_PAYLOAD = 65507;

// "host:port" or "[v6]:port" into its parts.
function parseAddress(address) {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(String(address));
  const port = match ? Number(match[2]) : NaN;
  if (!match || !(port > 0 && port < 65536)) {
    throw new TypeError(`metlog: UDP address "${address}" is not host:port`);
  }
  return { host: match[1], port };
}

class UdpTransport {
  constructor(address) {
    const { host, port } = parseAddress(address);
    this.host = host;
    this.port = port;
    this.maxPacketBytes = MAX_UDP_PAYLOAD;
    // Datagrams queue in libuv and the kernel; no need to wait for each.
    this.pipelined = true;
    this.sending = 0;
    this.socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    // Without a listener an 'error' event would throw into the application.
    this.socket.on('error', (error) => {
      this.lastError = error;
    });
    // An idle socket does not keep the process alive; one being written
    // to does, so a queued tail still leaves.
    this.socket.unref();
  }

  send(bytes) {
    if (this.sending++ === 0) this.socket.ref();
    return new Promise((resolve, reject) => {
      this.socket.send(bytes, this.port, this.host, (error) => {
        if (--this.sending === 0) this.socket.unref();
        if (error) reject(error);
        else resolve();
      });
    });
  }

  isRefusal() {
    return false;
  }

  close() {
    return new Promise((resolve) => this.socket.close(resolve));
  }
}

class UdpSender extends QueuedSender {
  // `address`: "host:port" (a host name is resolved on every datagram; give
  // an IP address to avoid that). Options as QueuedSender's; maxPacketBytes
  // is capped at 65507.
  constructor(address, options = {}) {
    super(new UdpTransport(address), options);
    this.address = address;
  }
}

module.exports = { UdpSender, parseAddress, MAX_UDP_PAYLOAD };
