// Compiled (never run) by types.test.js: uses every declared name the way
// an application would, so a declaration that does not match is an error.
import {
  MetlogClient,
  SEVERITY,
  ZmqSender,
  UdpSender,
  StdoutSender,
  CaptureSender,
  PacketSigner,
  clientFromConfig,
  clientFromEnv,
  decodePacket,
  filters,
  MetlogMessage,
  ClientStats,
} from '..';

const capture = new CaptureSender({ limit: 10 });
const client = new MetlogClient({
  sender: capture,
  logger: 'app',
  severity: SEVERITY.INFORMATIONAL,
  disabledTimers: ['db'],
  filters: [filters.severityMax(6), filters.typeBlacklist(['x']), filters.typeWhitelist(['counter']),
    filters.typeSeverityMax({ log: 4 }), (msg: MetlogMessage) => msg.type !== 'y'],
});
client.metlog('audit', { payload: 'x', fields: { user: 7, tags: ['a', 'b'], raw: new Uint8Array(2) }, timestamp: new Date() });
client.incr('orders', { count: 2, rate: 0.5 });
client.timerSend('db', 12.5, { rate: 1 });
client.gauge('depth', 3);
const timed: (x: number) => Promise<string> = client.timer('work', async (x: number) => String(x));
const timedSync: (a: string) => number = client.timer('sync', (a: string) => a.length, { rate: 0.1 });
client.debug('d');
client.info('i', { fields: { a: 1 } });
client.warn('w');
client.error('e');
client.critical('c');
client.exception(new Error('boom'));
client.addMethod('cef', function (this: MetlogClient, name: string) {
  this.metlog('cef', { payload: name });
}, { override: false });
const active: boolean = client.isActive;
const messages: MetlogMessage[] = capture.messages;
capture.clear();
const zmq = new ZmqSender(['tcp://127.0.0.1:5565'], {
  queueCapacity: 10, queueBytes: 1 << 20, maxPacketBytes: 4096, maxBatchMessages: 10, lingerMs: 1,
  unsentGraceMs: 10, closeTimeoutMs: 100, sendHighWaterMark: 10, zmqLingerMs: 0,
  signer: new PacketSigner({ name: 's', keyVersion: 1, key: 'k' }),
});
const endpoints: string[] = zmq.endpoints;
const zmqStatus: string | null = zmq.status();
const udp = new UdpSender('127.0.0.1:5565', {
  signer: { name: 's', key: new Uint8Array(4) },
  lookup: (host, options, callback) => callback(null, '127.0.0.1', 4),
});
const stdout = new StdoutSender();
const fromConfig = clientFromConfig({ logger: 'x', sender: { type: 'udp', address: '127.0.0.1:1' } }, { env: null });
const fromEnv = clientFromEnv('x', { METLOG_ENDPOINT: 'tcp://127.0.0.1:1' });
const decoded = decodePacket(new Uint8Array(0));
async function done(): Promise<number> {
  await client.flush();
  const stats: ClientStats = await client.close();
  await Promise.all([zmq.close(), udp.close(), stdout.close(), fromConfig.close(), fromEnv.close()]);
  return stats.sent + stats.filtered + stats.sampledOut + stats.droppedNoSender + (stats.droppedQueueFull ?? 0);
}
export { timed, timedSync, active, messages, endpoints, zmqStatus, decoded, done };
