'use strict';
// A Node.js service's use of the metlog package, and nothing else: the
// end-to-end test runs it against the real router. It prints its pid and
// the client's final stats as one JSON line.
const { clientFromEnv } = require('metlog');

async function main() {
  const metlog = clientFromEnv('node-e2e'); // METLOG_ENDPOINT from the test
  metlog.incr('orders');
  metlog.incr('items', { count: 3 });
  metlog.timerSend('db.query', 12.5);
  const work = metlog.timer('work', () => {
    const until = performance.now() + 2;
    while (performance.now() < until);
    return 'worked';
  });
  work();
  const fetchSlowly = metlog.timer('fetch', () => new Promise((resolve) => setTimeout(resolve, 5)));
  await fetchSlowly();
  metlog.gauge('queue.depth', 17);
  metlog.info('service started');
  metlog.warn('stock low', { fields: { sku: 'A-1', left: 2 } });
  metlog.metlog('audit', { payload: 'signed in', fields: { user: 7, admin: true, score: 0.5, tags: ['a', 'b'] } });
  try {
    JSON.parse('{');
  } catch (error) {
    metlog.exception(error);
  }
  const stats = await metlog.close();
  process.stdout.write(JSON.stringify({ pid: process.pid, stats }) + '\n');
}

main();
