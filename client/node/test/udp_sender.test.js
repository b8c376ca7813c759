'use strict';
// UdpSender against a real UDP socket: one Packet per datagram, under the
// UDP payload limit, signed when asked.
const test = require('node:test');
const assert = require('node:assert/strict');
const { MetlogClient, UdpSender } = require('..');
const { startUdp, fieldOf } = require('./helpers');

test('messages arrive as Packets, one per datagram', async () => {
  const udp = await startUdp();
  const client = new MetlogClient({ sender: new UdpSender(udp.address), logger: 'udp-test' });
  client.incr('orders');
  client.gauge('depth', 2.5);
  assert.equal(client.stats().sent, 0); // queued, not sent on this turn
  await client.close();
  const messages = await udp.waitForMessages(2);
  assert.equal(udp.packets.length, udp.datagramSizes.length);
  assert.deepEqual(
    messages.map((m) => [m.type, m.payload, m.logger, fieldOf(m, 'name').valueString[0]]),
    [
      ['counter', '1', 'udp-test', 'orders'],
      ['gauge', '2.5', 'udp-test', 'depth'],
    ],
  );
  await udp.close();
});

test('a large burst is split into datagrams under 65507 bytes, none lost on loopback', async () => {
  const udp = await startUdp();
  const client = new MetlogClient({ sender: new UdpSender(udp.address), logger: 'udp-test' });
  for (let i = 0; i < 300; i++) client.info(`${i} ${'p'.repeat(1000)}`);
  const stats = await client.close();
  const messages = await udp.waitForMessages(300);
  assert.equal(stats.sent, 300);
  assert.ok(udp.datagramSizes.length >= 5, `${udp.datagramSizes.length} datagrams`);
  assert.ok(udp.datagramSizes.every((size) => size <= 65507));
  assert.deepEqual(messages.map((m) => Number(m.payload.split(' ')[0])), [...Array(300).keys()]);
  await udp.close();
});

test('a signer signs each datagram', async () => {
  const udp = await startUdp();
  const sender = new UdpSender(udp.address, { signer: { name: 'udp', key: 'secret' } });
  const client = new MetlogClient({ sender });
  client.incr('signed');
  await client.close();
  await udp.waitForMessages(1);
  assert.equal(udp.packets[0].packet.signature.signer, 'udp');
  assert.equal(udp.packets[0].packet.signature.hmacSha256.length, 32);
  await udp.close();
});

test('a bad address never throws: the sender drops and counts everything, and status() says why', async () => {
  // As the C++ client and ZmqSender: found when the sender is made.
  const onWarning = () => {};
  process.on('warning', onWarning);
  for (const address of ['no-port', '127.0.0.1:70000', '127.0.0.1:0', null]) {
    const sender = new UdpSender(address);
    assert.match(sender.status(), /host:port/, String(address));
    const client = new MetlogClient({ sender });
    client.incr('lost');
    const stats = await client.close();
    assert.equal(stats.droppedNoSender, 1);
    assert.equal(stats.sent + stats.queued, 0);
  }
  process.off('warning', onWarning);
  assert.equal(new UdpSender('127.0.0.1:5565').status(), null);
  assert.throws(() => new UdpSender('127.0.0.1:5565', { queueCapcity: 1 }), /queueCapcity/);
});

test('a host name is looked up once for many datagrams, not once per datagram', async () => {
  const udp = await startUdp();
  const port = udp.address.split(':')[1];
  let lookups = 0;
  const lookup = (host, options, callback) => {
    lookups++;
    assert.equal(host, 'metlog-router.test');
    callback(null, '127.0.0.1', 4);
  };
  const client = new MetlogClient({ sender: new UdpSender(`metlog-router.test:${port}`, { lookup }) });
  for (let i = 0; i < 300; i++) client.info(`${i} ${'p'.repeat(1000)}`);
  const stats = await client.close();
  assert.equal(stats.sent, 300);
  await udp.waitForMessages(300);
  assert.ok(udp.datagramSizes.length >= 5, `${udp.datagramSizes.length} datagrams`);
  assert.equal(lookups, 1);
  await udp.close();
});

test('close() keeps its deadline when the host name never resolves', async () => {
  // A DNS server that does not answer: on main, close() never resolved.
  const sender = new UdpSender('metlog-router.test:5565', { closeTimeoutMs: 200, lookup: () => {} });
  const client = new MetlogClient({ sender });
  for (let i = 0; i < 3000; i++) client.incr('stuck');
  const stats = await client.close();
  assert.equal(stats.sent, 0);
  assert.equal(stats.droppedUnsent + stats.queued, 3000);
});
