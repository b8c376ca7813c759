'use strict';
// MetlogClient: the metlog-py API in JavaScript idiom. Every call builds a
// message object (the same keys metlog-py's dict has, camelCased), runs the
// filters on it and hands it to the sender, which queues it and returns: no
// call blocks, throws into the application (whatever its arguments: a call
// that cannot build its message counts as failed), or waits for the network.
const os = require('node:os');
const { performance } = require('node:perf_hooks');
const { SEVERITY } = require('./severity');

const ENV_VERSION = '1.0';

// Milliseconds since the epoch with sub-millisecond precision.
function now() {
  return performance.timeOrigin + performance.now();
}

function roundMicros(ms) {
  return Math.round(ms * 1000) / 1000;
}

function toMillis(timestamp) {
  if (timestamp == null) return now();
  if (timestamp instanceof Date) return timestamp.getTime();
  if (typeof timestamp === 'bigint') return Number(timestamp) / 1e6; // nanoseconds
  return Number(timestamp);
}

class MetlogClient {
  // `sender`: any object with send(msg) (flush() and close() when it queues).
  constructor({ sender, logger = '', severity = SEVERITY.INFORMATIONAL, disabledTimers = [], filters = [] } = {}) {
    this.sender = sender ?? null;
    this.logger = String(logger);
    this.severity = severity;
    this.disabledTimers = new Set(disabledTimers);
    this.filters = Array.from(filters);
    this.hostname = os.hostname();
    this.pid = process.pid;
    this.counters = { filtered: 0, sampledOut: 0, failed: 0, droppedNoSender: 0 };
    this.dynamicMethods = new Map();
  }

  // True once a sender is set.
  get isActive() {
    return this.sender !== null;
  }

  // Runs the filters and hands `msg` to the sender. A filter that throws
  // drops the message (counted as failed), as does a sender that throws.
  // Without a sender the message is dropped and counted (droppedNoSender).
  sendMessage(msg) {
    try {
      const filters = this.filters;
      for (let i = 0; i < filters.length; i++) {
        if (!filters[i](msg)) {
          this.counters.filtered++;
          return;
        }
      }
      if (this.sender !== null) this.sender.send(msg);
      else this.counters.droppedNoSender++;
    } catch (_) {
      this.counters.failed++;
    }
  }

  // Any message. Unset logger and severity take the client's. The fields
  // are copied: the sender encodes later, and the application may change
  // the object it passed meanwhile.
  metlog(type, options) {
    try {
      const { logger, severity, payload = '', fields, timestamp } = options ?? {};
      this.sendMessage({
        type: String(type),
        timestamp: toMillis(timestamp),
        logger: logger ?? this.logger,
        severity: severity ?? this.severity,
        payload: String(payload),
        fields: fields == null ? {} : { ...fields },
        envVersion: ENV_VERSION,
        pid: this.pid,
        hostname: this.hostname,
      });
    } catch (_) {
      this.counters.failed++;
    }
  }

  // A counter. With rate < 1 only that fraction of calls is sent, and the
  // rate travels with it so back ends scale the count back up.
  incr(name, options) {
    try {
      let count = 1;
      let rate = 1;
      let extra;
      if (options != null) {
        if (options.count !== undefined) count = options.count;
        if (options.rate !== undefined) rate = options.rate;
        extra = options;
      }
      if (rate < 1 && Math.random() >= rate) {
        this.counters.sampledOut++;
        return;
      }
      this.sendMetric('counter', name, String(count), rate, extra);
    } catch (_) {
      this.counters.failed++;
    }
  }

  // A timer sample in milliseconds. As in metlog-py, `rate` is only carried
  // along here (timer() is where sampling happens).
  timerSend(name, ms, options) {
    try {
      const extra = options ?? undefined;
      const rate = extra !== undefined && extra.rate !== undefined ? extra.rate : 1;
      this.sendMetric('timer', name, String(ms), rate, extra);
    } catch (_) {
      this.counters.failed++;
    }
  }

  // A gauge: the current value of something.
  gauge(name, value, options) {
    try {
      this.sendMetric('gauge', name, String(value), undefined, options ?? undefined);
    } catch (_) {
      this.counters.failed++;
    }
  }

  // Returns `fn` wrapped so that each call sends a timer with its duration:
  // for a sync function until it returns or throws, for one returning a
  // promise until that settles. Disabled timers ("*" or the name) and
  // sampling (rate < 1) are decided per call; a skipped call costs one
  // Set lookup (and one Math.random() when sampled).
  timer(name, fn, options) {
    if (typeof fn !== 'function') throw new TypeError('metlog: timer(name, fn) needs a function to wrap');
    const client = this;
    const rate = options?.rate ?? 1;
    const wrapped = function (...args) {
      if (client.timerDisabled(name) || (rate < 1 && Math.random() >= rate)) {
        return fn.apply(this, args);
      }
      const start = performance.now();
      const done = () => client.timerSend(name, roundMicros(performance.now() - start), options);
      let result;
      try {
        result = fn.apply(this, args);
      } catch (error) {
        done();
        throw error;
      }
      if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
        return result.then(
          (value) => {
            done();
            return value;
          },
          (error) => {
            done();
            throw error;
          },
        );
      }
      done();
      return result;
    };
    Object.defineProperty(wrapped, 'name', { value: fn.name });
    return wrapped;
  }

  timerDisabled(name) {
    return this.disabledTimers.size > 0 && (this.disabledTimers.has('*') || this.disabledTimers.has(name));
  }

  // Log messages: type "log", the payload as given.
  debug(payload, options) {
    this.log(SEVERITY.DEBUG, payload, options);
  }

  info(payload, options) {
    this.log(SEVERITY.INFORMATIONAL, payload, options);
  }

  warn(payload, options) {
    this.log(SEVERITY.WARNING, payload, options);
  }

  error(payload, options) {
    this.log(SEVERITY.ERROR, payload, options);
  }

  critical(payload, options) {
    this.log(SEVERITY.CRITICAL, payload, options);
  }

  log(severity, payload, options) {
    this.metlog('log', { ...options, severity, payload });
  }

  // An exception: type "exception", severity ALERT, payload the message;
  // fields exception_type (the error's name, the key the C++ client uses
  // too), message, stack, and code when the error has one.
  exception(err, options) {
    try {
      const isError = err !== null && typeof err === 'object';
      const fields = {
        exception_type: isError && err.name ? String(err.name) : typeof err,
        message: isError ? String(err.message ?? '') : String(err),
        stack: isError && err.stack ? String(err.stack) : '',
      };
      if (isError && err.code != null) fields.code = String(err.code);
      this.metlog('exception', {
        severity: SEVERITY.ALERT,
        payload: fields.message,
        ...options,
        fields: { ...fields, ...options?.fields },
      });
    } catch (_) {
      this.counters.failed++;
    }
  }

  // Adds `method` to this client as `name`, called with the client as
  // `this`. Refuses to replace an existing name unless `override`.
  addMethod(name, method, { override = false } = {}) {
    if (typeof method !== 'function') throw new TypeError(`metlog: addMethod("${name}") needs a function`);
    if (!override && name in this) throw new Error(`metlog: the name "${name}" is already in use`);
    this.dynamicMethods.set(name, method);
    this[name] = method.bind(this);
  }

  // Resolves once everything sent so far is handed to the transport.
  async flush() {
    if (this.sender !== null && typeof this.sender.flush === 'function') await this.sender.flush();
  }

  // Hands queued messages to the transport (or drops and counts them) and
  // closes the sender; resolves to the final stats. Never rejects.
  async close() {
    try {
      if (this.sender !== null && typeof this.sender.close === 'function') await this.sender.close();
    } catch (_) {
      this.counters.failed++;
    }
    return this.stats();
  }

  // The sender's counters (sent, dropped* by reason, queued) and the
  // client's (filtered, sampledOut, failed); droppedNoSender adds the
  // sender's (a sender whose endpoints cannot work) to the client's (no
  // sender at all).
  stats() {
    const sender = this.sender !== null && typeof this.sender.stats === 'function' ? this.sender.stats() : {};
    const droppedNoSender = (sender.droppedNoSender ?? 0) + this.counters.droppedNoSender;
    return { ...sender, ...this.counters, droppedNoSender };
  }

  sendMetric(type, name, payload, rate, options) {
    const fields = rate === undefined ? { name } : { name, rate };
    if (options === undefined) {
      this.sendMessage({
        type,
        timestamp: now(),
        logger: this.logger,
        severity: this.severity,
        payload,
        fields,
        envVersion: ENV_VERSION,
        pid: this.pid,
        hostname: this.hostname,
      });
      return;
    }
    this.sendMessage({
      type,
      timestamp: toMillis(options.timestamp),
      logger: options.logger ?? this.logger,
      severity: options.severity ?? this.severity,
      payload,
      fields: options.fields ? { ...options.fields, ...fields } : fields,
      envVersion: ENV_VERSION,
      pid: this.pid,
      hostname: this.hostname,
    });
  }
}

module.exports = { MetlogClient };
