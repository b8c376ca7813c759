'use strict';
// One Packet per UDP datagram (node:dgram), each kept under the largest UDP
// payload. UDP tells the sender nothing about delivery: a datagram the
// kernel accepted counts as sent.
const dgram = require('node:dgram');
const dns = require('node:dns');
const net = require('node:net');
const { QueuedSender, NO_TRANSPORT } = require('./queued_sender');

// The largest UDP payload over IPv4.
const MAX_UDP_PAYLOAD = 65507;

// How long a looked-up address is reused, and how long a failed lookup is
// remembered before the next datagram asks again.
const LOOKUP_TTL_MS = 30000;
const FAILED_LOOKUP_TTL_MS = 1000;

// A `lookup` for dgram that asks `lookup` (dns.lookup's signature) about a
// host name once per TTL, not once per datagram: a burst of datagrams would
// otherwise queue a getaddrinfo each on libuv's small thread pool, which
// the application's file and crypto work share. Calls made while a lookup
// is pending wait for it. IP addresses (dgram's implicit bind looks up
// 0.0.0.0 too) are answered at once.
function cachingLookup(lookup) {
  const hosts = new Map(); // host -> { result, expires, waiting }
  return (host, options, callback) => {
    const family = net.isIP(host);
    if (family !== 0) {
      process.nextTick(callback, null, host, family);
      return;
    }
    let entry = hosts.get(host);
    if (entry === undefined) hosts.set(host, (entry = { result: null, expires: 0, waiting: null }));
    if (entry.result !== null && Date.now() < entry.expires) {
      process.nextTick(callback, ...entry.result);
      return;
    }
    if (entry.waiting !== null) {
      entry.waiting.push(callback);
      return;
    }
    entry.waiting = [callback];
    lookup(host, options, (error, address, addressFamily) => {
      entry.result = [error ?? null, address, addressFamily];
      entry.expires = Date.now() + (error ? FAILED_LOOKUP_TTL_MS : LOOKUP_TTL_MS);
      const callbacks = entry.waiting;
      entry.waiting = null;
      for (const waiter of callbacks) waiter(...entry.result);
    });
  };
}

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
  constructor(address, lookup = dns.lookup) {
    const { host, port } = parseAddress(address);
    this.host = host;
    this.port = port;
    this.maxPacketBytes = MAX_UDP_PAYLOAD;
    // Datagrams queue in libuv and the kernel; no need to wait for each.
    this.pipelined = true;
    this.sending = 0;
    this.socket = dgram.createSocket({
      type: net.isIPv6(host) ? 'udp6' : 'udp4',
      lookup: cachingLookup(lookup),
    });
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
  // `address`: "host:port" (a host name is looked up again every 30 s).
  // Options as QueuedSender's, and `lookup` (dns.lookup's signature, the
  // default); maxPacketBytes is capped at 65507. As ZmqSender, it never
  // throws on a bad address: it drops and counts every message
  // (droppedNoSender), and status() says why.
  constructor(address, options = {}) {
    const { lookup, ...queueOptions } = options ?? {};
    QueuedSender.checkOptions(queueOptions);
    let transport = NO_TRANSPORT;
    let problem = null;
    try {
      transport = new UdpTransport(address, lookup);
    } catch (error) {
      problem = error.message;
    }
    super(transport, queueOptions);
    this.address = address;
    if (problem !== null) this.dropEverything(problem);
  }
}

module.exports = { UdpSender, parseAddress, MAX_UDP_PAYLOAD };
