'use strict';
// The sender behind ZmqSender and UdpSender. send() appends to a bounded
// in-memory queue and returns; packing (building envelopes, encoding,
// signing) and handing packets to the transport happen later, one packet per
// turn of the event loop (never the turn of the call that asked for it), so
// a burst of calls costs the caller only the appends. Nothing here throws or
// rejects into the application: refused packets and overflow are dropped and
// counted.
const { performance } = require('node:perf_hooks');
const { BatchBuilder, MessageTooLarge, MAX_MESSAGE_BYTES, encodePacket } = require('./encoder');
const { PacketSigner } = require('./signer');
const { chargeAsIs, snapshotMessage, chargeOfSnapshot } = require('./queue_charge');

// Packet framing around the batch (tag and length of `batch`, tag of
// `signature`); a signer adds its own overhead on top.
const PACKET_FRAMING_BYTES = 16;

const DEFAULTS = Object.freeze({
  queueCapacity: 65536, // messages queued or in the packet being sent
  queueBytes: 16 * 1024 * 1024, // their estimated size
  maxPacketBytes: 128 * 1024, // as the C++ client; bounds ZeroMQ's buffers
  maxMessageBytes: MAX_MESSAGE_BYTES, // the router's default limit
  maxBatchMessages: 1024, // per packet, so one turn's work stays short
  lingerMs: 5, // longest a message waits for its packet to fill
  unsentGraceMs: 250, // see deliver()
  closeTimeoutMs: 2000, // close() gives up on what is left after this
});

// Packing and sending runs in slices of about this long, then lets the
// application's I/O run, so a backlog never holds the event loop for long.
const SLICE_MS = 1;
// Packets a pipelined transport (UDP) may have in the kernel's hands at once.
const MAX_IN_FLIGHT = 16;

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function nextTurn() {
  return new Promise((resolve) => setImmediate(resolve));
}

class QueuedSender {
  // `transport`: { maxPacketBytes?, pipelined?, send(bytes): Promise,
  // isRefusal(error), close(): Promise }. A pipelined transport takes the
  // next packet before the last one's promise settles; others get one at a
  // time.
  constructor(transport, options = {}) {
    QueuedSender.checkOptions(options);
    this.options = { ...DEFAULTS, ...options };
    this.options.maxPacketBytes = Math.min(
      this.options.maxPacketBytes,
      transport.maxPacketBytes ?? Infinity,
    );
    const signer = options.signer;
    this.signer = signer == null || signer instanceof PacketSigner ? signer : new PacketSigner(signer);
    this.packetOverhead = PACKET_FRAMING_BYTES + (this.signer ? this.signer.overheadBytes : 0);
    this.transport = transport;
    // Why this sender drops everything (its endpoints cannot work), or null.
    this.problem = null;

    this.queue = [];
    this.charges = []; // what each queued message was charged, for its release
    this.head = 0; // queue[head..] is waiting; the rest was taken
    this.pendingMessages = 0; // queued + in the packet being delivered
    this.pendingBytes = 0;
    this.lingerTimer = null;
    this.draining = null; // the running (or scheduled) drain's promise
    this.closing = false;
    this.closed = null;
    this.deadline = Infinity; // close() sets it: no packing or retry after

    this.transportUp = true;
    this.lastError = null;
    this.inFlight = new Set(); // a pipelined transport's unsettled sends

    this.counters = {
      sent: 0,
      packetsSent: 0,
      droppedQueueFull: 0,
      droppedUnsent: 0,
      droppedOversized: 0,
      droppedInvalid: 0,
      droppedClosed: 0,
      droppedNoSender: 0,
    };
  }

  // Throws a TypeError naming any unknown option: a misspelt option is the
  // program's own mistake.
  static checkOptions(options) {
    const unknown = Object.keys(options).filter((k) => !(k in DEFAULTS) && k !== 'signer');
    if (unknown.length > 0) throw new TypeError(`metlog: unknown sender option(s) ${unknown.join(', ')}`);
  }

  // Why this sender drops every message (as the C++ client's status()), or
  // null when it can send.
  status() {
    return this.problem;
  }

  // Makes this sender drop and count every message, for `problem`; said
  // once as a process warning.
  dropEverything(problem) {
    this.problem = problem;
    process.emitWarning(`metlog: ${this.constructor.name} drops everything: ${problem}`);
  }

  // Queues `msg`; never throws, whatever it is handed.
  send(msg) {
    if (this.problem !== null) {
      this.counters.droppedNoSender++;
      return;
    }
    if (this.closing) {
      this.counters.droppedClosed++;
      return;
    }
    if (this.pendingMessages >= this.options.queueCapacity) {
      this.counters.droppedQueueFull++;
      return;
    }
    let bytes;
    try {
      bytes = chargeAsIs(msg);
      if (bytes < 0) {
        // Kept as it will be encoded, which is also what it is charged.
        msg = snapshotMessage(msg);
        bytes = chargeOfSnapshot(msg);
      }
    } catch (error) {
      this.lastError = error;
      this.counters.droppedInvalid++;
      return;
    }
    if (this.pendingBytes + bytes > this.options.queueBytes) {
      this.counters.droppedQueueFull++;
      return;
    }
    this.queue.push(msg);
    this.charges.push(bytes);
    this.pendingMessages++;
    this.pendingBytes += bytes;
    if (this.draining !== null) return;
    const waiting = this.queue.length - this.head;
    if (this.lingerTimer === null) {
      this.lingerTimer = setTimeout(() => this.startDrain(), this.options.lingerMs);
    } else if (waiting === this.options.maxBatchMessages) {
      // A packet's worth is here: no reason to wait for the timer. The drain
      // starts on a later turn, never inside this call.
      this.startDrain();
    }
  }

  // Resolves once everything sent so far is handed to the transport or
  // dropped and counted.
  flush() {
    if (this.queue.length === this.head && this.draining === null) return Promise.resolve();
    return this.startDrain();
  }

  // Sends what is queued (within closeTimeoutMs), then closes the transport.
  // Messages sent after close() are dropped and counted.
  close() {
    if (this.closed === null) {
      this.closing = true;
      this.deadline = Date.now() + this.options.closeTimeoutMs;
      this.closed = this.drainAndDropRest()
        .then(() => this.transport.close())
        .catch((error) => {
          this.lastError = error;
        })
        .then(() => this.stats());
    }
    return this.closed;
  }

  stats() {
    return {
      ...this.counters,
      queued: this.pendingMessages,
      queuedBytes: this.pendingBytes,
      lastError: this.lastError ? String(this.lastError.message ?? this.lastError) : null,
    };
  }

  // Starts a drain on the next turn of the event loop (unless one is running
  // or scheduled), so that whoever asks for it, send() filling a packet or
  // the application's flush(), never packs or sends on its own turn. Until
  // then the queue stays bounded: send() drops and counts what overflows.
  startDrain() {
    if (this.lingerTimer !== null) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = null;
    }
    if (this.draining === null) {
      this.draining = nextTurn().then(() => this.drain()).finally(() => {
        this.draining = null;
        // Messages sent during the last packet's delivery start a new round.
        if (this.queue.length > this.head && !this.closing) this.startDrain();
      });
    }
    return this.draining;
  }

  async drainAndDropRest() {
    await this.startDrain();
    // Past the deadline: what is left will never be sent.
    const left = this.queue.length - this.head;
    this.counters.droppedUnsent += left;
    this.pendingMessages -= left;
    this.pendingBytes = 0;
    this.queue = [];
    this.charges = [];
    this.head = 0;
  }

  async drain() {
    let sliceStart = performance.now();
    while (this.queue.length > this.head && Date.now() < this.deadline) {
      const packet = this.pack();
      if (packet !== null) {
        if (this.transport.pipelined) await this.deliverPipelined(packet);
        else await this.deliver(packet);
      }
      if (performance.now() - sliceStart >= SLICE_MS) {
        await nextTurn();
        sliceStart = performance.now();
      }
    }
    // Packets still in the transport's hands: waited for, but not past
    // close()'s deadline (a UDP host name whose lookup never answers).
    while (this.inFlight.size > 0 && Date.now() < this.deadline) await this.settledOrDeadline();
  }

  // Resolves when an in-flight packet settles, or at close()'s deadline.
  async settledOrDeadline() {
    const waits = [...this.inFlight];
    let timer = null;
    if (this.deadline !== Infinity) {
      waits.push(new Promise((resolve) => (timer = setTimeout(resolve, this.deadline - Date.now()))));
    }
    await Promise.race(waits);
    clearTimeout(timer);
  }

  // Takes messages from the queue's head into one packet, within
  // maxPacketBytes and maxBatchMessages. null when none could be packed.
  pack() {
    const { maxPacketBytes, maxBatchMessages } = this.options;
    const limit = maxPacketBytes - this.packetOverhead;
    const batch = new BatchBuilder(this.options.maxMessageBytes);
    let takenBytes = 0;
    let overflow = false;
    while (this.head < this.queue.length && batch.count < maxBatchMessages) {
      const msg = this.queue[this.head];
      let added;
      try {
        added = batch.add(msg);
      } catch (error) {
        // Refused before anything was written: invalid, or too big for the
        // router.
        this.lastError = error;
        if (error instanceof MessageTooLarge) this.counters.droppedOversized++;
        else this.counters.droppedInvalid++;
        this.release();
        continue;
      }
      if (batch.bytes > limit) {
        // Too big for this packet: it opens the next one, unless it is too
        // big for any.
        overflow = true;
        if (added > limit) {
          this.counters.droppedOversized++;
          this.release();
        }
        break;
      }
      // The charge made at send() (a sender used directly is charged for
      // the fields object as it was then, should the caller change it).
      takenBytes += this.charges[this.head];
      this.queue[this.head++] = undefined;
    }
    const batchBytes = batch.finish(overflow);
    if (this.head === this.queue.length) {
      this.queue = [];
      this.charges = [];
      this.head = 0;
    }
    if (batch.count === 0) return null;
    // The packet stays charged at its estimate until it is delivered.
    return { bytes: encodePacket(batchBytes, this.signer), count: batch.count, charged: takenBytes };
  }

  // Drops the message at the head, freeing what it was charged.
  release() {
    this.pendingBytes -= this.charges[this.head];
    this.queue[this.head++] = undefined;
    this.pendingMessages--;
  }

  // Hands one packet to the transport. A refusal while the transport was
  // last accepting (a router restarting, or the first connection still being
  // made) is retried for unsentGraceMs; after that, refused packets are
  // dropped at once until one gets through again.
  async deliver(packet) {
    const graceEnd = Math.min(Date.now() + this.options.unsentGraceMs, this.deadline);
    for (;;) {
      try {
        await this.transport.send(packet.bytes);
        this.delivered(packet);
        break;
      } catch (error) {
        if (this.transportUp && this.transport.isRefusal(error) && Date.now() < graceEnd) {
          this.lastError = error;
          await delay(5);
          continue;
        }
        this.undelivered(packet, error);
        break;
      }
    }
  }

  // Hands one packet to a pipelined transport, waiting only while
  // MAX_IN_FLIGHT packets are unsettled (which bounds the memory they hold).
  async deliverPipelined(packet) {
    while (this.inFlight.size >= MAX_IN_FLIGHT && Date.now() < this.deadline) {
      await this.settledOrDeadline();
    }
    if (this.inFlight.size >= MAX_IN_FLIGHT) {
      this.undelivered(packet, new Error('metlog: close() deadline passed'));
      return;
    }
    const sending = this.transport.send(packet.bytes).then(
      () => this.delivered(packet),
      (error) => this.undelivered(packet, error),
    );
    const settled = sending.then(() => this.inFlight.delete(settled));
    this.inFlight.add(settled);
  }

  delivered(packet) {
    this.counters.sent += packet.count;
    this.counters.packetsSent++;
    this.transportUp = true;
    this.pendingMessages -= packet.count;
    this.pendingBytes -= packet.charged;
  }

  undelivered(packet, error) {
    this.lastError = error;
    this.transportUp = false;
    this.counters.droppedUnsent += packet.count;
    this.pendingMessages -= packet.count;
    this.pendingBytes -= packet.charged;
  }
}

// Stands in for the transport of a sender whose address cannot work: it is
// never handed a packet (the sender drops every message first).
const NO_TRANSPORT = Object.freeze({
  send: () => Promise.reject(new Error('metlog: no transport')),
  isRefusal: () => false,
  close: async () => {},
});

module.exports = { QueuedSender, QUEUED_SENDER_DEFAULTS: DEFAULTS, NO_TRANSPORT };
