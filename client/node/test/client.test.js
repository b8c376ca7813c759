'use strict';
// The MetlogClient API on a CaptureSender: what each call builds, filters,
// sampling, disabled timers, extensions, stats.
const test = require('node:test');
const assert = require('node:assert/strict');
const os = require('node:os');
const { MetlogClient, CaptureSender, SEVERITY, filters } = require('..');

function capturing(options = {}) {
  const sender = new CaptureSender();
  return { sender, client: new MetlogClient({ sender, logger: 'shop', ...options }) };
}

test('metlog() stamps the client defaults on a message', () => {
  const { sender, client } = capturing();
  const before = Date.now();
  client.metlog('audit', { payload: 'signed in', fields: { user: 7 } });
  const [msg] = sender.messages;
  assert.equal(msg.type, 'audit');
  assert.equal(msg.logger, 'shop');
  assert.equal(msg.severity, SEVERITY.INFORMATIONAL);
  assert.equal(msg.payload, 'signed in');
  assert.deepEqual(msg.fields, { user: 7 });
  assert.equal(msg.envVersion, '1.0');
  assert.equal(msg.pid, process.pid);
  assert.equal(msg.hostname, os.hostname());
  assert.ok(msg.timestamp >= before - 1 && msg.timestamp <= Date.now() + 1);
});

test('metlog() takes logger, severity and timestamp from the call', () => {
  const { sender, client } = capturing();
  client.metlog('t', { logger: 'other', severity: 2, timestamp: new Date(1000) });
  client.metlog('t', { timestamp: 1500n * 1000000n });
  assert.equal(sender.messages[0].logger, 'other');
  assert.equal(sender.messages[0].severity, 2);
  assert.equal(sender.messages[0].timestamp, 1000);
  assert.equal(sender.messages[1].timestamp, 1500);
  assert.equal(sender.messages[1].payload, '');
});

test('incr() sends a counter with name and rate', () => {
  const { sender, client } = capturing();
  client.incr('orders');
  client.incr('items', { count: 3, fields: { shop: 'eu' }, severity: 5 });
  assert.deepEqual(
    sender.messages.map((m) => [m.type, m.payload, m.fields, m.severity]),
    [
      ['counter', '1', { name: 'orders', rate: 1 }, 6],
      ['counter', '3', { shop: 'eu', name: 'items', rate: 1 }, 5],
    ],
  );
});

test('incr() with rate 0 sends nothing and counts it as sampled out', () => {
  const { sender, client } = capturing();
  for (let i = 0; i < 100; i++) client.incr('never', { rate: 0 });
  assert.equal(sender.messages.length, 0);
  assert.equal(client.stats().sampledOut, 100);
});

test('incr() with rate 0.25 sends about a quarter, each carrying the rate', () => {
  const { sender, client } = capturing({});
  sender.limit = Infinity;
  const calls = 20000;
  for (let i = 0; i < calls; i++) client.incr('sampled', { rate: 0.25 });
  const sent = sender.messages.length;
  // 0.25 * 20000 = 5000, standard deviation ~61: ±600 is ~10 sigma.
  assert.ok(sent > 4400 && sent < 5600, `sent ${sent}`);
  assert.equal(sent + client.stats().sampledOut, calls);
  assert.ok(sender.messages.every((m) => m.fields.rate === 0.25));
});

test('timerSend() and gauge() follow the metric conventions', () => {
  const { sender, client } = capturing();
  client.timerSend('db.query', 12.5, { rate: 0.5 });
  client.gauge('queue.depth', 17);
  assert.deepEqual(
    sender.messages.map((m) => [m.type, m.payload, m.fields]),
    [
      ['timer', '12.5', { name: 'db.query', rate: 0.5 }],
      ['gauge', '17', { name: 'queue.depth' }],
    ],
  );
});

test('timer() times a sync function and passes its arguments, this and result', () => {
  const { sender, client } = capturing();
  const target = {
    factor: 3,
    work: client.timer('work', function (x) {
      const until = performance.now() + 5;
      while (performance.now() < until);
      return x * this.factor;
    }),
  };
  assert.equal(target.work(2), 6);
  assert.equal(sender.messages.length, 1);
  const [msg] = sender.messages;
  assert.equal(msg.type, 'timer');
  assert.equal(msg.fields.name, 'work');
  assert.ok(Number(msg.payload) >= 5, msg.payload);
});

test('timer() sends when a sync function throws, and rethrows', () => {
  const { sender, client } = capturing();
  const failing = client.timer('fails', () => {
    throw new RangeError('no');
  });
  assert.throws(failing, RangeError);
  assert.equal(sender.messages.length, 1);
});

test('timer() times an async function until its promise settles', async () => {
  const { sender, client } = capturing();
  const slow = client.timer('slow', async (ms) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return 'done';
  });
  const pending = slow(30);
  assert.equal(sender.messages.length, 0); // not until it settles
  assert.equal(await pending, 'done');
  assert.equal(sender.messages.length, 1);
  assert.ok(Number(sender.messages[0].payload) >= 25, sender.messages[0].payload);

  const rejecting = client.timer('rejects', () => Promise.reject(new Error('x')));
  await assert.rejects(rejecting(), /x/);
  assert.equal(sender.messages.length, 2);
  assert.equal(sender.messages[1].fields.name, 'rejects');
});

test('disabled timers are skipped by name or all by "*", the function still runs', () => {
  const { sender, client } = capturing({ disabledTimers: ['quiet'] });
  let runs = 0;
  client.timer('quiet', () => runs++)();
  client.timer('loud', () => runs++)();
  assert.equal(runs, 2);
  assert.deepEqual(sender.messages.map((m) => m.fields.name), ['loud']);

  const all = capturing({ disabledTimers: ['*'] });
  all.client.timer('any', () => runs++)();
  assert.equal(all.sender.messages.length, 0);
  assert.equal(runs, 3);
});

test('timer() with rate 0 never sends', () => {
  const { sender, client } = capturing();
  const fn = client.timer('t', () => 1, { rate: 0 });
  for (let i = 0; i < 10; i++) fn();
  assert.equal(sender.messages.length, 0);
});

test('log calls send type "log" at their severities', () => {
  const { sender, client } = capturing();
  client.debug('d');
  client.info('i');
  client.warn('w', { fields: { disk: 'sda' } });
  client.error('e');
  client.critical('c');
  assert.deepEqual(
    sender.messages.map((m) => [m.type, m.severity, m.payload]),
    [
      ['log', 7, 'd'],
      ['log', 6, 'i'],
      ['log', 4, 'w'],
      ['log', 3, 'e'],
      ['log', 2, 'c'],
    ],
  );
  assert.deepEqual(sender.messages[2].fields, { disk: 'sda' });
});

test('exception() sends the error name, message and stack at ALERT', () => {
  const { sender, client } = capturing();
  const error = new TypeError('card declined');
  error.code = 'E_CARD';
  client.exception(error);
  client.exception('a string', { fields: { order: 12 } });
  const [first, second] = sender.messages;
  assert.equal(first.type, 'exception');
  assert.equal(first.severity, SEVERITY.ALERT);
  assert.equal(first.payload, 'card declined');
  assert.equal(first.fields.exception_type, 'TypeError');
  assert.equal(first.fields.message, 'card declined');
  assert.equal(first.fields.stack, error.stack);
  assert.equal(first.fields.code, 'E_CARD');
  assert.deepEqual(second.fields, { exception_type: 'string', message: 'a string', stack: '', order: 12 });
});

test('addMethod() adds an extension bound to the client, refusing clashes', () => {
  const { sender, client } = capturing();
  client.addMethod('cef', function (name, severity) {
    this.metlog('cef', { payload: name, severity });
  });
  client.cef('login failed', 3);
  assert.deepEqual([sender.messages[0].type, sender.messages[0].payload, sender.messages[0].severity], ['cef', 'login failed', 3]);
  assert.throws(() => client.addMethod('incr', () => {}), /already in use/);
  assert.throws(() => client.addMethod('cef', () => {}), /already in use/);
  client.addMethod('cef', function () {
    this.metlog('cef2');
  }, { override: true });
  client.cef();
  assert.equal(sender.messages[1].type, 'cef2');
});

test('filter providers refuse what they should, and count it', () => {
  const { sender, client } = capturing({
    filters: [
      filters.severityMax(6),
      filters.typeBlacklist(['noise']),
      filters.typeSeverityMax({ log: 4 }),
    ],
  });
  client.debug('too verbose'); // severity 7 > 6
  client.metlog('noise');
  client.info('info log'); // log limited to 4
  client.warn('kept');
  client.incr('kept');
  assert.deepEqual(sender.messages.map((m) => m.payload), ['kept', '1']);
  assert.equal(client.stats().filtered, 3);

  const allow = capturing({ filters: [filters.typeWhitelist(['counter'])] });
  allow.client.info('no');
  allow.client.incr('yes');
  assert.deepEqual(allow.sender.messages.map((m) => m.type), ['counter']);
});

test('a custom filter sees the whole message and may change it', () => {
  const { sender, client } = capturing({
    filters: [
      (msg) => {
        msg.fields.region = 'eu';
        return msg.fields.name !== 'secret';
      },
    ],
  });
  client.incr('secret');
  client.incr('public');
  assert.deepEqual(sender.messages.map((m) => m.fields), [{ name: 'public', rate: 1, region: 'eu' }]);
});

test('a throwing filter or sender drops the message and counts it, never throws', () => {
  const { client } = capturing({
    filters: [
      () => {
        throw new Error('bug');
      },
    ],
  });
  assert.doesNotThrow(() => client.incr('x'));
  const broken = new MetlogClient({
    sender: {
      send() {
        throw new Error('broken');
      },
    },
  });
  assert.doesNotThrow(() => broken.info('x'));
  assert.equal(client.stats().failed, 1);
  assert.equal(broken.stats().failed, 1);
});

test('isActive, close() and sends after close', async () => {
  assert.equal(new MetlogClient().isActive, false);
  const { sender, client } = capturing();
  assert.equal(client.isActive, true);
  client.incr('before');
  const stats = await client.close();
  client.incr('after');
  assert.equal(sender.messages.length, 1);
  assert.equal(stats.sent, 1);
  assert.equal(client.stats().droppedClosed, 1);
});

test('a client without a sender counts what it drops', async () => {
  const client = new MetlogClient({ logger: 'nowhere', filters: [(msg) => msg.type !== 'audit'] });
  assert.equal(client.isActive, false);
  client.incr('orders');
  client.timerSend('db', 3);
  client.gauge('depth', 1);
  client.info('lost');
  client.exception(new Error('lost too'));
  client.metlog('audit', { payload: 'filtered first' });
  client.timer('t', () => 1)();
  const stats = await client.close();
  assert.equal(stats.droppedNoSender, 6);
  assert.equal(stats.filtered, 1);
  assert.equal(stats.failed, 0);
});

test('no call throws into the application, whatever its arguments', () => {
  const { client, sender } = capturing();
  const unprintable = Object.create(null); // String() of it throws
  const calls = [
    () => client.metlog('x', null),
    () => client.incr('x', null),
    () => client.incr('x', { count: unprintable }),
    () => client.timerSend('x', 5, null),
    () => client.timerSend('x', unprintable),
    () => client.gauge('x', 5, null),
    () => client.info(unprintable),
    () => client.info('x', null),
    () => client.exception(unprintable),
    () => client.exception({
      get name() {
        throw new Error('getter');
      },
    }),
    () => client.metlog(unprintable),
  ];
  for (const call of calls) assert.doesNotThrow(call);
  const wrapped = client.timer('t', () => 7, null);
  assert.equal(wrapped(), 7);
  const stats = client.stats();
  // Each call either sent a message or was counted as failed.
  assert.equal(stats.sent + stats.failed, calls.length + 1);
  assert.ok(sender.messages.length > 0);
});
