'use strict';
// Clients from a JSON config object and from the environment.
const test = require('node:test');
const assert = require('node:assert/strict');
const { clientFromConfig, clientFromEnv, ZmqSender, UdpSender, StdoutSender, CaptureSender } = require('..');
const { startPull, startUdp } = require('./helpers');

test('a config builds each kind of sender', async () => {
  const kinds = [
    [{ type: 'zmq', endpoints: ['tcp://127.0.0.1:1'] }, ZmqSender],
    [{ type: 'udp', address: '127.0.0.1:1' }, UdpSender],
    [{ type: 'stdout' }, StdoutSender],
    [{ type: 'capture', limit: 5 }, CaptureSender],
  ];
  for (const [sender, kind] of kinds) {
    const client = clientFromConfig({ logger: 'cfg', sender }, { env: null });
    assert.ok(client.sender instanceof kind, sender.type);
    await client.close();
  }
});

test('logger, severity, disabled timers and filters come from the config', async () => {
  const client = clientFromConfig(
    {
      logger: 'cfg',
      severity: 5,
      disabledTimers: ['off'],
      filters: { severityMax: 5, typeBlacklist: ['noise'] },
      sender: { type: 'capture' },
    },
    { env: null },
  );
  client.incr('kept');
  client.metlog('noise');
  client.debug('too verbose');
  client.timer('off', () => {})();
  assert.deepEqual(client.sender.messages.map((m) => [m.type, m.logger, m.severity]), [['counter', 'cfg', 5]]);
  assert.equal(client.stats().filtered, 2);
});

test('a zmq config with queue options and a signer sends to its endpoint', async () => {
  const pull = await startPull();
  const client = clientFromConfig(
    {
      logger: 'cfg',
      sender: { endpoints: [pull.endpoint], queueCapacity: 10, signer: { name: 'cfg', key: 'k' } },
    },
    { env: null },
  );
  for (let i = 0; i < 15; i++) client.incr('c');
  const stats = await client.close();
  assert.equal(stats.droppedQueueFull, 5);
  const messages = await pull.waitForMessages(10);
  assert.equal(messages[0].logger, 'cfg');
  assert.equal(pull.packets[0].packet.signature.signer, 'cfg');
  await pull.close();
});

test('METLOG_ENDPOINT and METLOG_LOGGER win over the config', async () => {
  const pull = await startPull();
  const env = { METLOG_ENDPOINT: pull.endpoint, METLOG_LOGGER: 'from-env' };
  const client = clientFromConfig({ logger: 'cfg', sender: { endpoints: ['tcp://127.0.0.1:1'] } }, { env });
  client.info('hello');
  await client.close();
  const [msg] = await pull.waitForMessages(1);
  assert.equal(msg.logger, 'from-env');
  assert.equal(msg.payload, 'hello');
  await pull.close();
});

test('clientFromEnv() sends over ZeroMQ to METLOG_ENDPOINT', async () => {
  const pull = await startPull();
  const client = clientFromEnv('env-app', { METLOG_ENDPOINT: pull.endpoint });
  assert.deepEqual(client.sender.endpoints, [pull.endpoint]);
  client.incr('from-env');
  await client.close();
  const [msg] = await pull.waitForMessages(1);
  assert.equal(msg.logger, 'env-app');
  await pull.close();
});

test('clientFromEnv() without METLOG_ENDPOINT uses the router default endpoint', async () => {
  const client = clientFromEnv('x', {});
  assert.deepEqual(client.sender.endpoints, ['tcp://127.0.0.1:5565']);
  await client.close();
});

test('a UDP config sends datagrams to its address', async () => {
  const udp = await startUdp();
  const client = clientFromConfig({ sender: { type: 'udp', address: udp.address } }, { env: null });
  client.incr('u');
  await client.close();
  await udp.waitForMessages(1);
  await udp.close();
});

test('unknown keys and sender types are refused by name', () => {
  assert.throws(() => clientFromConfig({ loger: 'x' }, { env: null }), /unknown key\(s\) loger/);
  assert.throws(() => clientFromConfig({ filters: { sevMax: 1 } }, { env: null }), /sevMax/);
  assert.throws(() => clientFromConfig({ sender: { type: 'carrier-pigeon' } }, { env: null }), /carrier-pigeon/);
  assert.throws(() => clientFromConfig({ sender: { type: 'capture', size: 1 } }, { env: null }), /size/);
  assert.throws(() => clientFromConfig({ sender: { queueCapcity: 1 } }, { env: null }), /queueCapcity/);
  assert.throws(() => clientFromConfig('logger=x'), /config object/);
});
