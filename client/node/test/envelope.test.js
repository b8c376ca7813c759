'use strict';
// What the encoder puts on the wire: envelope fields, typed Fields, uuids,
// timestamps, batches and signatures.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { execFile: execFileCallback } = require('node:child_process');
const path = require('node:path');
const { promisify } = require('node:util');
const { MetlogClient, CaptureSender, PacketSigner, decodePacket } = require('..');
const { toEnvelope, BatchBuilder, encodePacket, Message } = require('../lib/encoder');
const { Batch } = require('../lib/envelope');

const execFile = promisify(execFileCallback);

function built(call) {
  const sender = new CaptureSender();
  call(new MetlogClient({ sender, logger: 'enc' }));
  return sender.messages;
}

function roundTrip(msg) {
  return Message.decode(Message.encode(toEnvelope(msg)).finish());
}

test('a counter encodes with the metric conventions and the origin', () => {
  const [msg] = built((c) => c.incr('orders', { count: 2 }));
  const m = roundTrip(msg);
  assert.equal(m.type, 'counter');
  assert.equal(m.payload, '2');
  assert.equal(m.logger, 'enc');
  assert.equal(m.severity, 6);
  assert.equal(m.envVersion, '1.0');
  assert.equal(m.pid, process.pid);
  assert.equal(m.hostname, msg.hostname);
  assert.deepEqual(m.fields[0].toJSON(), { name: 'name', valueString: ['orders'] });
  // rate is a DOUBLE by the metric convention, even when it is 1.
  assert.deepEqual(m.fields[1].toJSON(), { name: 'rate', valueType: 'DOUBLE', valueDouble: [1] });
});

test('the timestamp travels as nanoseconds, to the microsecond', () => {
  const [msg] = built((c) => c.metlog('t', { timestamp: 1795600000123.456 }));
  const m = roundTrip(msg);
  const ns = BigInt(m.timestamp.toString());
  const expected = 1795600000123456000n;
  assert.ok(ns - expected < 1000n && expected - ns < 1000n, `${ns}`);
});

test('uuids are random version 4', () => {
  const [msg] = built((c) => c.info('x'));
  const a = roundTrip(msg).uuid;
  const b = roundTrip(msg).uuid;
  assert.equal(a.length, 16);
  assert.notDeepEqual(Buffer.from(a), Buffer.from(b));
  assert.equal(a[6] >> 4, 4);
  assert.equal(a[8] >> 6, 2);
});

test('fields are typed from their JavaScript values', () => {
  const [msg] = built((c) =>
    c.metlog('typed', {
      fields: {
        s: 'text',
        i: 42,
        d: 2.5,
        big: 9007199254740993n,
        b: false,
        bytes: Buffer.from([1, 2]),
        ints: [1, 2, 3],
        mixed: [1, 2.5],
        obj: { a: [1] },
        date: new Date(0),
        skipped: null,
      },
    }),
  );
  const fields = Object.fromEntries(roundTrip(msg).fields.map((f) => [f.name, f.toJSON()]));
  assert.deepEqual(fields, {
    s: { name: 's', valueString: ['text'] },
    i: { name: 'i', valueType: 'INTEGER', valueInteger: ['42'] },
    d: { name: 'd', valueType: 'DOUBLE', valueDouble: [2.5] },
    big: { name: 'big', valueType: 'INTEGER', valueInteger: ['9007199254740993'] },
    b: { name: 'b', valueType: 'BOOL', valueBool: [false] },
    bytes: { name: 'bytes', valueType: 'BYTES', valueBytes: ['AQI='] },
    ints: { name: 'ints', valueType: 'INTEGER', valueInteger: ['1', '2', '3'] },
    mixed: { name: 'mixed', valueType: 'DOUBLE', valueDouble: [1, 2.5] },
    obj: { name: 'obj', valueString: ['{"a":[1]}'] },
    date: { name: 'date', valueString: ['1970-01-01T00:00:00.000Z'] },
  });
});

test('a batch built message by message decodes as a Batch', () => {
  const messages = built((c) => {
    c.incr('a');
    c.info('b');
  });
  const batch = new BatchBuilder();
  for (const msg of messages) batch.add(msg);
  const decoded = decodePacket(encodePacket(batch.finish()));
  assert.equal(decoded.packet.signature, null);
  assert.deepEqual(decoded.batch.messages.map((m) => m.type), ['counter', 'log']);
  assert.equal(batch.bytes, decoded.packet.batch.length);
});

test('HMAC-SHA256 is the standard one (RFC 4231 test case 2)', () => {
  const signer = new PacketSigner({ name: 'jefe', key: 'Jefe' });
  const signature = signer.sign(Buffer.from('what do ya want for nothing?'));
  assert.equal(
    signature.hmacSha256.toString('hex'),
    '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
  );
});

test('a signed packet carries signer, key version and the HMAC of its batch bytes', () => {
  const key = crypto.randomBytes(32);
  const signer = new PacketSigner({ name: 'shop', keyVersion: 3, key });
  const batch = new BatchBuilder();
  batch.add(built((c) => c.incr('signed'))[0]);
  const { packet } = decodePacket(encodePacket(batch.finish(), signer));
  assert.equal(packet.signature.signer, 'shop');
  assert.equal(packet.signature.keyVersion, 3);
  const expected = crypto.createHmac('sha256', key).update(packet.batch).digest();
  assert.deepEqual(Buffer.from(packet.signature.hmacSha256), expected);
});

test('a signer refuses a missing name or key', () => {
  assert.throws(() => new PacketSigner({ key: 'k' }), /name/);
  assert.throws(() => new PacketSigner({ name: 'n', key: '' }), /key/);
});

test('toEnvelope keeps a non-string payload as text', () => {
  const [msg] = built((c) => c.info('x'));
  msg.payload = 12;
  assert.equal(toEnvelope(msg).payload, '12');
});

test('a message the envelope cannot carry is refused before anything is written', () => {
  const [good, bad] = built((c) => {
    c.info('good');
    c.metlog('bad', { severity: 'loud' });
  });
  const batch = new BatchBuilder();
  batch.add(good);
  const before = batch.bytes;
  assert.throws(() => batch.add(bad), /severity loud is not an integer/);
  assert.equal(batch.bytes, before);
  assert.deepEqual(decodePacket(encodePacket(batch.finish())).batch.messages.map((m) => m.payload), ['good']);
});

test('the last message can be taken back out of a batch', () => {
  const batch = new BatchBuilder();
  for (const msg of built((c) => ['a', 'b', 'c'].forEach((p) => c.info(p)))) batch.add(msg);
  const bytes = batch.finish(true);
  assert.equal(batch.count, 2);
  assert.deepEqual(decodePacket(encodePacket(bytes)).batch.messages.map((m) => m.payload), ['a', 'b']);
});

test('a batch holds the bytes Message.encode makes, for metric and other messages alike', () => {
  const messages = built((c) => {
    c.incr('orders');
    c.incr('orders', { count: 2, rate: 0.5 });
    c.timerSend('db', 1.25);
    c.gauge('depth', 3);
    c.incr('tagged', { fields: { shop: 'eu' } });
    c.warn('w', { fields: { n: 1, list: ['a'] } });
    c.info('no fields');
    c.exception(new Error('e'));
    c.metlog('t', { logger: 'other', severity: 0, payload: 'ü' });
  });
  const batch = new BatchBuilder();
  for (const msg of messages) batch.add(msg);
  const bytes = batch.finish();
  const decoded = decodePacket(encodePacket(bytes)).batch.messages;
  assert.equal(decoded.length, messages.length);
  assert.deepEqual(Buffer.from(bytes), Buffer.from(Batch.encode({ messages: decoded }).finish()));
  decoded.forEach((m, i) => {
    // Same bytes as protobufjs' own encoding of the decoded message: every
    // field present, in field-number order.
    const expected = toEnvelope(messages[i]);
    expected.uuid = m.uuid;
    assert.deepEqual(Buffer.from(Message.encode(m).finish()), Buffer.from(Message.encode(expected).finish()), `message ${i}`);
  });
});

// Run in its own process so that its memory is measured alone: 2000 unique
// metric names of 60 KB each, encoded one at a time. What stays alive after
// a GC (V8's heap and buffers) is measured: RSS would also count the pages
// V8 and malloc keep after freeing.
const HUGE_NAMES_PROGRAM = `
const { BatchBuilder } = require(process.argv[1] + '/lib/encoder');
const { MetlogClient, CaptureSender } = require(process.argv[1]);
const capture = new CaptureSender({ limit: 1 });
const client = new MetlogClient({ sender: capture, logger: 'huge' });
const encodeOne = (i) => {
  client.incr(i + 'n'.repeat(60000));
  new BatchBuilder().add(capture.messages[0]);
};
for (let i = 0; i < 10; i++) encodeOne(i);
// After a GC and the freeing of buffers, which V8 finishes in the background.
const live = async () => {
  for (let i = 0; i < 3; i++) {
    global.gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return process.memoryUsage().heapUsed + process.memoryUsage().external;
};
(async () => {
  const baseline = await live();
  for (let i = 10; i < 2000; i++) encodeOne(i);
  console.log(Math.round(((await live()) - baseline) / 1024));
})();
`;

test('the encoder caches stay small, whatever the metric names', async () => {
  const { stdout } = await execFile(
    process.execPath,
    ['--expose-gc', '-e', HUGE_NAMES_PROGRAM, path.resolve(__dirname, '..')],
    { timeout: 120000 },
  );
  // 2000 x 60 KB names (twice that with their encoded parts) offered; the
  // caches keep about 1 MiB of parts each, and as much in names.
  const growthKb = Number(stdout);
  assert.ok(growthKb < 16 * 1024, `live memory grew ${growthKb} KiB`);
});
