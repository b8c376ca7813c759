'use strict';
// ZmqSender against real ZeroMQ PULL sockets: delivery, batching, several
// endpoints, signing, bounds, drops, reconnection, close().
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { execFile: execFileCallback } = require('node:child_process');
const path = require('node:path');
const { promisify } = require('node:util');
const zmq = require('zeromq');
const { MetlogClient, ZmqSender, CaptureSender, clientFromEnv } = require('..');
const { BatchBuilder } = require('../lib/encoder');
const { startPull, fieldOf } = require('./helpers');

const execFile = promisify(execFileCallback);

function clientOn(endpoints, options = {}) {
  return new MetlogClient({ sender: new ZmqSender(endpoints, options), logger: 'zmq-test' });
}

test('messages reach a PULL socket as decoded envelopes, enqueued without waiting', async () => {
  const pull = await startPull();
  const client = clientOn(pull.endpoint);
  client.incr('orders', { count: 3 });
  client.timerSend('db', 12.5);
  client.warn('disk low', { fields: { free: 5 } });
  // The calls only queued: nothing is packed or sent on the caller's turn.
  assert.equal(client.stats().sent, 0);
  assert.equal(client.stats().queued, 3);
  await client.flush();
  const messages = await pull.waitForMessages(3);
  assert.deepEqual(
    messages.map((m) => [m.type, m.payload, m.logger, fieldOf(m, 'name')?.valueString[0]]),
    [
      ['counter', '3', 'zmq-test', 'orders'],
      ['timer', '12.5', 'zmq-test', 'db'],
      ['log', 'disk low', 'zmq-test', undefined],
    ],
  );
  assert.equal(messages[2].severity, 4);
  assert.equal(fieldOf(messages[2], 'free').valueInteger[0].toString(), '5');
  const stats = await client.close();
  assert.equal(stats.sent, 3);
  assert.equal(stats.queued, 0);
  await pull.close();
});

test('a burst is batched into few packets, in order', async () => {
  const pull = await startPull();
  const client = clientOn(pull.endpoint, { maxBatchMessages: 500 });
  for (let i = 0; i < 2000; i++) client.metlog('seq', { payload: String(i) });
  await client.close();
  const messages = await pull.waitForMessages(2000);
  assert.deepEqual(messages.map((m) => Number(m.payload)), [...Array(2000).keys()]);
  assert.equal(pull.packets.length, 4);
  await pull.close();
});

test('no call packs or sends on its own turn, not the one that fills a packet, nor flush()', async () => {
  const pull = await startPull();
  const sender = new ZmqSender(pull.endpoint);
  const client = new MetlogClient({ sender, logger: 'zmq-test' });
  // Records work done while an application call is still running.
  let inCall = null;
  const workInCall = [];
  for (const [object, method] of [[sender, 'pack'], [sender.transport, 'send']]) {
    const original = object[method].bind(object);
    object[method] = (...args) => {
      if (inCall !== null) workInCall.push(`${method} in ${inCall}`);
      return original(...args);
    };
  }
  const during = (name, call) => {
    inCall = name;
    try {
      return call();
    } finally {
      inCall = null;
    }
  };
  // 1024 (maxBatchMessages) fill a packet; 3000 fill it again and again.
  for (let i = 1; i <= 3000; i++) during(`incr #${i}`, () => client.incr('burst'));
  const flushed = during('flush()', () => client.flush());
  assert.deepEqual(workInCall, []);
  await flushed;
  const closed = during('close()', () => client.close());
  assert.deepEqual(workInCall, []);
  const stats = await closed;
  assert.equal(stats.sent, 3000);
  await pull.waitForMessages(3000);
  await pull.close();
});

test('packets stay under maxPacketBytes; a message that alone exceeds it is dropped and counted', async () => {
  const pull = await startPull();
  const client = clientOn(pull.endpoint, { maxPacketBytes: 4096 });
  for (let i = 0; i < 100; i++) client.info('x'.repeat(200));
  client.info('y'.repeat(5000));
  const stats = await client.close();
  await pull.waitForMessages(100);
  assert.ok(pull.packets.length > 1);
  assert.ok(pull.packets.every((p) => p.raw.length <= 4096), pull.packets.map((p) => p.raw.length).join());
  assert.equal(stats.sent, 100);
  assert.equal(stats.droppedOversized, 1);
  await pull.close();
});

test('packets are spread over several endpoints', async () => {
  const pulls = [await startPull(), await startPull()];
  const client = clientOn(pulls.map((p) => p.endpoint), { maxBatchMessages: 10 });
  // ZeroMQ deals packets to the connections that are up; send in rounds
  // until both routers have had some.
  let calls = 0;
  const deadline = Date.now() + 10000;
  while ((pulls[0].packets.length === 0 || pulls[1].packets.length === 0) && Date.now() < deadline) {
    for (let i = 0; i < 100; i++, calls++) client.incr('spread');
    await client.flush();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const stats = await client.close();
  assert.ok(pulls[0].packets.length > 0 && pulls[1].packets.length > 0);
  assert.equal(stats.sent + stats.droppedUnsent, calls);
  const received = async () => pulls[0].messages.length + pulls[1].messages.length;
  while ((await received()) < stats.sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(await received(), stats.sent);
  await Promise.all(pulls.map((p) => p.close()));
});

test('a signer signs every packet over its batch bytes', async () => {
  const pull = await startPull();
  const key = crypto.randomBytes(32);
  const client = clientOn(pull.endpoint, { signer: { name: 'shop', keyVersion: 2, key } });
  client.incr('signed');
  await client.close();
  await pull.waitForMessages(1);
  const { packet } = pull.packets[0];
  assert.equal(packet.signature.signer, 'shop');
  assert.equal(packet.signature.keyVersion, 2);
  assert.deepEqual(
    Buffer.from(packet.signature.hmacSha256),
    crypto.createHmac('sha256', key).update(packet.batch).digest(),
  );
  await pull.close();
});

test('the queue is bounded in messages: overflow is dropped and counted', async () => {
  const pull = await startPull();
  const client = clientOn(pull.endpoint, { queueCapacity: 100 });
  for (let i = 0; i < 250; i++) client.incr('burst');
  assert.equal(client.stats().droppedQueueFull, 150);
  const stats = await client.close();
  assert.equal(stats.sent, 100);
  await pull.waitForMessages(100);
  await pull.close();
});

test('the queue is bounded in bytes: big messages overflow it first', async () => {
  const pull = await startPull();
  const client = clientOn(pull.endpoint, { queueBytes: 64 * 1024 });
  for (let i = 0; i < 20; i++) client.info('z'.repeat(10000));
  const stats = client.stats();
  assert.ok(stats.queuedBytes <= 64 * 1024);
  assert.equal(stats.queued, 6);
  assert.equal(stats.droppedQueueFull, 14);
  await client.close();
  await pull.waitForMessages(6);
  await pull.close();
});

test('with no router, sends are dropped and counted, never thrown or rejected', async () => {
  const pull = await startPull();
  const endpoint = pull.endpoint;
  await pull.close(); // a port nobody listens on now
  const client = clientOn(endpoint, { unsentGraceMs: 50 });
  for (let i = 0; i < 10; i++) client.incr('lost');
  await client.flush();
  const stats = await client.close();
  assert.equal(stats.sent, 0);
  assert.equal(stats.droppedUnsent, 10);
  assert.match(stats.lastError, /not possible|EAGAIN/i);
});

test('after the router goes away and comes back on the same endpoint, sending resumes', async () => {
  let pull = await startPull();
  const endpoint = pull.endpoint;
  const client = clientOn(endpoint, { unsentGraceMs: 50 });
  client.incr('first');
  await client.flush();
  await pull.waitForMessages(1);
  await pull.close();

  // Gone: once ZeroMQ has seen the connection close, packets are refused,
  // dropped and counted.
  let deadline = Date.now() + 10000;
  while (client.stats().droppedUnsent === 0 && Date.now() < deadline) {
    client.incr('while-down');
    await client.flush();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.ok(client.stats().droppedUnsent > 0);

  pull = await startPull(endpoint);
  // ZeroMQ reconnects by itself (100 ms interval); send until one lands.
  deadline = Date.now() + 10000;
  while (pull.messages.length === 0 && Date.now() < deadline) {
    client.incr('after');
    await client.flush();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.ok(pull.messages.length > 0);
  assert.ok(pull.messages.every((m) => m.type === 'counter' && m.logger === 'zmq-test'));
  await client.close();
  await pull.close();
});

test('close() hands over the queued tail, and later sends are counted as dropped', async () => {
  const pull = await startPull();
  const client = clientOn(pull.endpoint);
  for (let i = 0; i < 5000; i++) client.incr('tail');
  const closing = client.close();
  client.incr('too-late');
  const stats = await closing;
  assert.equal(stats.sent, 5000);
  assert.equal(stats.droppedClosed, 1);
  assert.deepEqual(await client.close(), stats, 'close() twice is one close');
  await pull.waitForMessages(5000);
  await pull.close();
});

test('a bad endpoint never throws: the sender drops and counts everything, and status() says why', async () => {
  // As the C++ client's Client(MakeZmqSender(...)): found when the sender is
  // made, so METLOG_ENDPOINT=garbage cannot crash the application.
  const warnings = [];
  const onWarning = (warning) => warnings.push(warning.message);
  process.on('warning', onWarning);
  const bad = [
    'nonsense', [], 'tcp://127.0.0.1:0', 'tcp://127.0.0.1', 'tcp://:5565', 'udp://x:1',
    ['tcp://127.0.0.1:5565', 'ipc:///no/such/dir/s'], [42], 42, null,
  ];
  for (const endpoints of bad) {
    const sender = new ZmqSender(endpoints);
    assert.match(sender.status(), /endpoint/, String(endpoints));
    const client = new MetlogClient({ sender, logger: 'nowhere' });
    client.incr('lost');
    client.info('lost too');
    await client.flush();
    const stats = await client.close();
    assert.equal(stats.droppedNoSender, 2, String(endpoints));
    assert.equal(stats.sent + stats.queued, 0);
  }
  await new Promise((resolve) => setImmediate(resolve));
  process.off('warning', onWarning);
  assert.equal(warnings.filter((w) => /ZmqSender drops everything/.test(w)).length, bad.length);
  // A misspelt option is the program's own mistake, and still throws.
  assert.throws(() => new ZmqSender('tcp://127.0.0.1:1', { queueCapcity: 1 }), /queueCapcity/);
});

test('good endpoints have no status', async () => {
  for (const endpoint of [
    'tcp://127.0.0.1:5565', 'tcp://[::1]:5565', 'tcp://localhost:5565',
    'ipc:///tmp/metlog.sock', 'ipc://@metlog', 'inproc://metlog',
  ]) {
    const sender = new ZmqSender(endpoint);
    assert.equal(sender.status(), null, endpoint);
    await sender.close();
  }
});

test('a bracketed IPv6 endpoint is reached', async (t) => {
  const pull = await startPull('tcp://[::1]:*', { ipv6: true }).catch(() => null);
  if (pull === null) {
    t.skip('no IPv6 loopback here');
    return;
  }
  const client = clientOn(pull.endpoint);
  client.incr('n');
  await pull.waitForMessages(1);
  assert.equal((await client.close()).sent, 1);
  await pull.close();
});

test('clientFromEnv with a malformed METLOG_ENDPOINT does not throw', async () => {
  const client = clientFromEnv('app', { METLOG_ENDPOINT: 'localhost:5565' });
  assert.match(client.sender.status(), /localhost:5565/);
  client.incr('lost');
  assert.equal((await client.close()).droppedNoSender, 1);
});

// Run in its own process so that its memory is measured alone: 60 KB
// messages to a router that never reads, as fast as the queue takes them.
const STALLED_ROUTER_PROGRAM = `
const { MetlogClient, ZmqSender } = require(process.argv[1]);
(async () => {
  const sender = new ZmqSender(process.argv[2], { queueBytes: 2 * 1024 * 1024 });
  const client = new MetlogClient({ sender, logger: 'big' });
  const payload = 'x'.repeat(60000);
  const send = async (count) => {
    for (let i = 0; i < count; i++) client.metlog('blob', { payload });
    await client.flush();
  };
  await send(20);
  global.gc();
  const baseline = process.memoryUsage().rss;
  for (let round = 0; round < 100; round++) await send(30);
  global.gc();
  const growthKb = Math.round((process.memoryUsage().rss - baseline) / 1024);
  const stats = client.stats();
  console.log(JSON.stringify({ growthKb, stats }));
  process.exit(0);
})();
`;

test('a router that never reads costs drops, not memory: ZeroMQ holds few small packets', async () => {
  const pull = new zmq.Pull({ linger: 0, receiveHighWaterMark: 1, receiveBufferSize: 4096 });
  await pull.bind('tcp://127.0.0.1:*');
  try {
    const { stdout } = await execFile(
      process.execPath,
      ['--expose-gc', '-e', STALLED_ROUTER_PROGRAM, path.resolve(__dirname, '..'), pull.lastEndpoint],
      { timeout: 120000 },
    );
    const { growthKb, stats } = JSON.parse(stdout);
    // 3020 messages (180 MB) offered.
    assert.equal(stats.queued, 0);
    assert.ok(stats.droppedUnsent > 0, JSON.stringify(stats));
    assert.equal(stats.sent + stats.droppedUnsent + stats.droppedQueueFull, 3020);
    // Handed over but never read: ZeroMQ's 32 x 128 KiB plus the kernel's
    // socket buffers (a few MiB on loopback), nowhere near 180 MB.
    assert.ok(stats.sent * 60000 < 24 * 1024 * 1024, JSON.stringify(stats));
    // The rest of the growth is V8's heap and malloc keeping what the
    // dropped packets used (measured 29-45 MiB, the same after 4x the
    // messages); with ZeroMQ's old 1000 x 1 MiB it was over 200 MiB.
    assert.ok(growthKb < 96 * 1024, `RSS grew ${growthKb} KiB`);
  } finally {
    pull.close();
  }
});

test('a message with a bad severity is dropped and counted; its packet still goes', async () => {
  const pull = await startPull();
  const client = clientOn(pull.endpoint);
  client.info('before');
  client.metlog('bad', { severity: 2.5 });
  client.info('after');
  const stats = await client.close();
  // Not lastError: a refusal while the connection comes up may come later.
  assert.equal(stats.droppedInvalid, 1);
  const messages = await pull.waitForMessages(2);
  assert.deepEqual(messages.map((m) => m.payload), ['before', 'after']);
  await pull.close();
});

test('what the router would reject is dropped and counted, not counted as sent', async () => {
  // The router's limits (proto/config.proto, sinks/message/wire_message.cc): a
  // message over 64 KiB, a severity outside 0..7, a field without a name.
  const pull = await startPull();
  const client = clientOn(pull.endpoint);
  client.info('z'.repeat(70000));
  client.metlog('log', { severity: 8, payload: 'too low' });
  client.metlog('log', { severity: -1, payload: 'negative' });
  client.metlog('log', { payload: 'nameless', fields: { '': 1 } });
  client.incr('fine');
  const stats = await client.close();
  const messages = await pull.waitForMessages(1);
  assert.deepEqual(
    messages.map((m) => m.type),
    ['counter'],
  );
  assert.equal(stats.sent, 1);
  assert.equal(stats.droppedOversized, 1);
  assert.equal(stats.droppedInvalid, 3);
  await pull.close();
});

test('lone surrogates travel as U+FFFD, so the router gets UTF-8', async () => {
  const pull = await startPull();
  const client = clientOn(pull.endpoint);
  client.info('file \udcff.txt', { fields: { path: 'a\ud800b' } });
  client.incr('ok');
  await client.close();
  const [log] = await pull.waitForMessages(2);
  assert.equal(log.payload, 'file \ufffd.txt');
  assert.equal(fieldOf(log, 'path').valueString[0], 'a\ufffdb');
  await pull.close();
});

test('the byte bound counts arrays, typed arrays and values of any type', async () => {
  const pull = await startPull();
  const client = clientOn(pull.endpoint, { queueBytes: 64 * 1024 });
  const big = 'z'.repeat(10000);
  for (let i = 0; i < 10; i++) client.metlog('listed', { fields: { lines: [big] } });
  for (let i = 0; i < 10; i++) client.metlog('blob', { fields: { data: new Uint8Array(10000) } });
  // A logger that is not a string must not poison the count (NaN).
  client.metlog('log', { logger: 42, payload: 'numeric logger' });
  for (let i = 0; i < 10; i++) client.info(big);
  const stats = client.stats();
  assert.ok(Number.isFinite(stats.queuedBytes));
  assert.ok(stats.queuedBytes <= 64 * 1024, String(stats.queuedBytes));
  assert.equal(stats.queued + stats.droppedQueueFull, 31);
  await client.close();
  await pull.close();
});

// An endpoint nobody listens on: what is queued stays queued until close().
async function deadEndpoint() {
  const pull = await startPull();
  await pull.close();
  return pull.endpoint;
}

// What `msg` adds to a Batch once encoded.
function encodedBytes(msg) {
  return new BatchBuilder(Infinity).add(msg);
}

test('a message is charged at least its encoded size, whatever its values', async () => {
  const endpoint = await deadEndpoint();
  const rows = Array.from({ length: 3000 }, (_, j) => ({ j, s: `row ${j}` }));
  const capture = new CaptureSender();
  const client = new MetlogClient({ sender: capture, logger: 'charges' });
  client.metlog('request', { payload: 'object', fields: { body: { id: 1, rows } } });
  client.metlog('request', { payload: 'list of objects', fields: { rows } });
  client.metlog('request', { payload: 'mixed list', fields: { mixed: [1, 'two', { three: 3 }, null] } });
  client.metlog('request', { payload: 'date', fields: { at: new Date(0), big: 2n ** 640n } });
  client.metlog('request', { payload: 'scalars', fields: { n: -1, x: 0.5, ok: true, id: 2n ** 62n } });
  client.metlog('request', { payload: 'bytes', fields: { blob: new Uint8Array(5000), ints: new Int32Array(50) } });
  client.info('text '.repeat(2000), { fields: { list: ['a'.repeat(300), 'b'] } });
  client.incr('orders', { count: 3, rate: 0.5 });
  for (const msg of capture.messages) {
    const sender = new ZmqSender(endpoint, { unsentGraceMs: 0 });
    const encoded = encodedBytes(msg);
    sender.send(msg);
    const { queuedBytes } = sender.stats();
    assert.ok(queuedBytes >= encoded, `${msg.payload.slice(0, 20)}: charged ${queuedBytes} < encoded ${encoded}`);
    // From above, but not far: a bound on memory that is also a useful one.
    assert.ok(queuedBytes <= encoded * 1.1 + 400, `${msg.payload.slice(0, 20)}: charged ${queuedBytes}, encoded ${encoded}`);
    await sender.close();
  }
});

test('the byte bound counts UTF-8 bytes, not UTF-16 units', async () => {
  const endpoint = await deadEndpoint();
  const capture = new CaptureSender();
  const client = new MetlogClient({ sender: capture, logger: 'z\u00fcrich' });
  client.info('\u20ac'.repeat(10000)); // 3 bytes a unit
  client.info('\u{1f600}'.repeat(5000)); // 4 bytes a pair of units
  client.info('lone \ud800'.repeat(2000)); // sent as U+FFFD, 3 bytes
  client.metlog('\u6587', { payload: '\u00e9t\u00e9', fields: { '\u540d\u524d': '\u6771\u4eac'.repeat(3000), short: '\u20ac' } });
  for (const msg of capture.messages) {
    const sender = new ZmqSender(endpoint, { unsentGraceMs: 0 });
    const encoded = encodedBytes(msg);
    sender.send(msg);
    const { queuedBytes } = sender.stats();
    assert.ok(queuedBytes >= encoded, `${msg.payload.slice(0, 5)}: charged ${queuedBytes} < encoded ${encoded}`);
    assert.ok(queuedBytes <= encoded * 1.1 + 400, `${msg.payload.slice(0, 5)}: charged ${queuedBytes}, encoded ${encoded}`);
    await sender.close();
  }
  // 30 000 bytes each: two fit in 64 KiB (six would by their length).
  const bounded = clientOn(endpoint, { queueBytes: 64 * 1024, unsentGraceMs: 0 });
  for (let i = 0; i < 20; i++) bounded.info('\u20ac'.repeat(10000));
  const stats = bounded.stats();
  assert.equal(stats.queued, 2);
  assert.equal(stats.droppedQueueFull, 18);
  await bounded.close();
});

test('object-valued fields count against the byte bound as the JSON they are sent as', async () => {
  const endpoint = await deadEndpoint();
  const queueBytes = 1024 * 1024;
  const client = clientOn(endpoint, { queueBytes, maxMessageBytes: 1 << 20, unsentGraceMs: 0 });
  // About 90 KB of JSON each; the rows are shared, so this test itself stays small.
  const rows = Array.from({ length: 3600 }, (_, j) => ({ j, s: `row ${j}` }));
  const body = (i) => ({ id: i, rows });
  const capture = new CaptureSender();
  new MetlogClient({ sender: capture, logger: 'zmq-test' }).metlog('request', { fields: { body: body(0) } });
  const oneMessage = encodedBytes(capture.messages[0]);
  assert.ok(oneMessage > 85000, String(oneMessage));
  for (let i = 0; i < 3000; i++) client.metlog('request', { fields: { body: body(i) } });
  const stats = client.stats();
  assert.ok(stats.queuedBytes <= queueBytes, String(stats.queuedBytes));
  assert.ok(stats.queued >= 1 && stats.queued <= Math.floor(queueBytes / oneMessage), JSON.stringify(stats));
  assert.equal(stats.queued + stats.droppedQueueFull, 3000);
  const closed = await client.close();
  assert.equal(closed.queued, 0);
  assert.equal(closed.queuedBytes, 0);
});

test('a sender used directly never throws, whatever it is handed', async () => {
  const sender = new ZmqSender('tcp://127.0.0.1:1', { closeTimeoutMs: 100 });
  for (const msg of [null, undefined, 42, {}, { type: 'x', payload: Object.create(null) }]) {
    assert.doesNotThrow(() => sender.send(msg));
  }
  const stats = await sender.close();
  assert.equal(stats.sent + stats.droppedInvalid + stats.droppedUnsent + stats.droppedQueueFull, 5);
});

test('a message keeps the fields it was sent with, and its charge', async () => {
  const pull = await startPull();
  const client = clientOn(pull.endpoint);
  const fields = { shop: 'eu' };
  client.metlog('order', { fields });
  // The application reuses its object before the sender has encoded.
  fields.shop = 'us';
  fields.notes = 'n'.repeat(5000);
  await client.flush();
  const [message] = await pull.waitForMessages(1);
  assert.equal(fieldOf(message, 'shop').valueString[0], 'eu');
  assert.equal(fieldOf(message, 'notes'), undefined);
  assert.equal(client.stats().queuedBytes, 0);
  await client.close();
  await pull.close();
});
