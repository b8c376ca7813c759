'use strict';
// Keeps the last `limit` messages in memory, exactly as the client built
// them, for tests: `sender.messages`.
class CaptureSender {
  constructor({ limit = 1000 } = {}) {
    this.limit = limit;
    this.messages = [];
    this.counters = { sent: 0, droppedClosed: 0 };
    this.closed = false;
  }

  send(msg) {
    if (this.closed) {
      this.counters.droppedClosed++;
      return;
    }
    this.messages.push(msg);
    if (this.messages.length > this.limit) this.messages.shift();
    this.counters.sent++;
  }

  // Forgets what was captured.
  clear() {
    this.messages = [];
  }

  flush() {
    return Promise.resolve();
  }

  async close() {
    this.closed = true;
    return this.stats();
  }

  stats() {
    return { ...this.counters, queued: 0 };
  }
}

module.exports = { CaptureSender };
