'use strict';
// JSON lines on a stream (standard output by default): one envelope per line
// in protobuf's JSON mapping, the schema the router's file sink writes, so
// the same tools read both. For development and for jobs whose output is
// collected anyway.
const { toEnvelope, Message } = require('./encoder');

const JSON_OPTIONS = Object.freeze({ longs: String, enums: String, bytes: String, json: true });

class StdoutSender {
  constructor({ stream = process.stdout } = {}) {
    this.stream = stream;
    this.counters = { sent: 0, droppedInvalid: 0, droppedClosed: 0 };
    this.closed = false;
  }

  send(msg) {
    if (this.closed) {
      this.counters.droppedClosed++;
      return;
    }
    let line;
    try {
      const envelope = Message.fromObject(toEnvelope(msg));
      line = JSON.stringify(Message.toObject(envelope, JSON_OPTIONS)) + '\n';
    } catch (_) {
      this.counters.droppedInvalid++;
      return;
    }
    this.stream.write(line);
    this.counters.sent++;
  }

  // Resolves once the stream has taken everything written so far.
  flush() {
    return new Promise((resolve) => {
      if (this.stream.writableLength === 0 || this.stream.writableLength === undefined) resolve();
      else this.stream.once('drain', resolve);
    });
  }

  async close() {
    this.closed = true;
    await this.flush();
    return this.stats();
  }

  stats() {
    return { ...this.counters, queued: 0 };
  }
}

module.exports = { StdoutSender };
