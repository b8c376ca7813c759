'use strict';
// What incr() costs a Node.js service, beside hot-shots (the most used Node
// statsd client) sending the same counter to a UDP port; then 1 M incr()
// calls at full speed into the real router, with every call accounted for.
//
//   bazel build //router //tools:metlogctl
//   node --expose-gc client/node/bench/incr_bench.js [--calls=1000000]
//       [--part=all|compare|router] [--router=bazel-bin/router/router]
//       [--metlogctl=bazel-bin/tools/metlogctl]
//
// --part=router alone gives RSS figures not inflated by the comparison's
// sample arrays and clients.
//
// Run from the repository root after tools/bootstrap.sh (which installs
// hot-shots from the lockfile). Calls are made in turns of 1000, yielding to
// the event loop in between as a server does between requests, so each
// client's deferred work (metlog's packing and sending, hot-shots' send
// callbacks) runs inside the measurement.
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const StatsD = require('hot-shots');
const { MetlogClient, ZmqSender, UdpSender } = require('..');

const args = Object.fromEntries(
  process.argv.slice(2).map((arg) => {
    const [key, value] = arg.replace(/^--/, '').split('=');
    return [key, value];
  }),
);
const CALLS = Number(args.calls ?? 1000000);
const TURN = 1000;
const ROUTER = args.router ?? 'bazel-bin/router/router';
const METLOGCTL = args.metlogctl ?? 'bazel-bin/tools/metlogctl';
const PART = args.part ?? 'all';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (bytes) => (bytes / 1048576).toFixed(1);

// A child process that receives datagrams on a free UDP port and drops them.
async function startUdpDiscard() {
  const child = spawn(process.execPath, ['-e', `
    const s = require('node:dgram').createSocket('udp4');
    s.bind(0, '127.0.0.1', () => console.log(s.address().port));
    s.on('message', () => {});
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve) => child.stdout.once('data', (d) => resolve(Number(d))));
  return { port, stop: () => child.kill() };
}

// The router with a ZeroMQ input, a null sink and an admin port.
async function startRouter() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metlog-bench-'));
  const config = path.join(dir, 'router.textproto');
  fs.writeFileSync(config, `
    inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] { endpoint: "tcp://127.0.0.1:*" receive_hwm: 10000 } } }
    admin { listen_address: "127.0.0.1:0" }
    stats_interval_ms: 0
    sinks { name: "null" match: "TRUE" options { [type.googleapis.com/metlog.sinks.NullOptions] {} } }
  `);
  const router = spawn(ROUTER, [`--config=${config}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const started = await new Promise((resolve, reject) => {
    const onExit = (code) => reject(new Error(`router exited (${code}):\n${stderr}`));
    router.once('exit', onExit);
    router.stderr.on('data', (chunk) => {
      stderr += chunk;
      const endpoint = /(tcp:\/\/127\.0\.0\.1:\d+) listening/.exec(stderr);
      const admin = /admin listening on port (\d+)/.exec(stderr);
      if (endpoint && admin) {
        router.removeListener('exit', onExit);
        resolve({ endpoint: endpoint[1], admin: `127.0.0.1:${admin[1]}` });
      }
    });
  });
  return {
    ...started,
    accepted() {
      const out = execFileSync(METLOGCTL, [`--admin=${started.admin}`, 'stats'], { encoding: 'utf8' });
      return Number(/messages accepted (\d+)/.exec(out)[1]);
    },
    stop() {
      router.kill('SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Times each of CALLS calls of `call` (in turns of TURN), then waits for
// `settle` (the client's deferred work). Reports the call's p50, p99,
// p99.9, max, mean and the number of calls that took 1 ms or more (work
// done once per packet on the caller's turn shows there) and the event loop's busy time per call over the whole run,
// deferred work included.
async function timeCalls(name, call, settle) {
  const samples = new Float64Array(CALLS);
  const eluStart = performance.eventLoopUtilization();
  const wallStart = performance.now();
  for (let done = 0; done < CALLS; ) {
    for (const end = Math.min(done + TURN, CALLS); done < end; done++) {
      const t0 = process.hrtime.bigint();
      call();
      samples[done] = Number(process.hrtime.bigint() - t0);
    }
    await nextTurn();
  }
  await settle();
  const elu = performance.eventLoopUtilization(eluStart);
  const wallMs = performance.now() - wallStart;
  const sorted = Float64Array.from(samples).sort();
  const mean = samples.reduce((a, b) => a + b, 0) / CALLS;
  return {
    name,
    p50: sorted[Math.floor(CALLS / 2)],
    p99: sorted[Math.floor(CALLS * 0.99)],
    p999: sorted[Math.floor(CALLS * 0.999)],
    max: sorted[CALLS - 1],
    over1ms: sorted.filter((ns) => ns >= 1e6).length,
    mean,
    busyPerCall: (elu.active * 1e6) / CALLS,
    wallMs,
  };
}

function printRows(rows) {
  console.log('client                                    call p50   call p99  call p99.9     call max  call mean  calls >= 1 ms  loop busy/call (incl. deferred)');
  for (const r of rows) {
    const ns = (v) => `${v.toFixed(0).padStart(7)} ns`;
    console.log(`${r.name.padEnd(40)} ${ns(r.p50)} ${ns(r.p99)} ${ns(r.p999).padStart(11)} ${ns(r.max).padStart(12)} ${ns(r.mean)} ${String(r.over1ms).padStart(14)}  ${ns(r.busyPerCall)}`);
  }
}

async function compareWithHotShots() {
  const udp = await startUdpDiscard();
  const pull = await startRouter();
  const rows = [];

  // The clock alone: what every row below includes.
  rows.push(await timeCalls('(hrtime pair, no call)', () => {}, async () => {}));

  for (const [name, options] of [['hot-shots (UDP, default: a datagram per call)', {}],
    ['hot-shots (UDP, maxBufferSize 1432)', { maxBufferSize: 1432, bufferFlushInterval: 5 }]]) {
    const errors = [];
    const statsd = new StatsD({ host: '127.0.0.1', port: udp.port, errorHandler: (e) => errors.push(e), ...options });
    rows.push(await timeCalls(name, () => statsd.increment('orders'), () => new Promise((resolve) => statsd.close(resolve))));
    if (errors.length > 0) console.log(`${name}: ${errors.length} send errors (${errors[0].message})`);
  }

  for (const [name, sender] of [['metlog incr() (UdpSender, same port)', new UdpSender(`127.0.0.1:${udp.port}`)],
    ['metlog incr() (ZmqSender, router up)', new ZmqSender(pull.endpoint)]]) {
    const client = new MetlogClient({ sender, logger: 'bench' });
    let stats;
    rows.push(await timeCalls(name, () => client.incr('orders'), async () => {
      stats = await client.close();
    }));
    const dropped = stats.droppedQueueFull + stats.droppedUnsent + stats.droppedOversized;
    console.log(`${name}: sent ${stats.sent}, dropped ${dropped}`);
  }
  pull.stop();
  udp.stop();
  printRows(rows);
}

// 1 M incr() into the router: every call is sent or dropped (counted), the
// router accepted exactly what was sent, and memory stays bounded.
async function fullSpeedIntoRouter(turns) {
  const router = await startRouter();
  const client = new MetlogClient({ sender: new ZmqSender(router.endpoint), logger: 'bench' });
  await sleep(200); // let the connection come up
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const start = performance.now();
  for (let done = 0; done < CALLS; ) {
    for (const end = Math.min(done + (turns ? TURN : CALLS), CALLS); done < end; done++) client.incr('orders');
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    if (turns) await nextTurn();
  }
  const callsMs = performance.now() - start;
  const stats = await client.close();
  const elapsedMs = performance.now() - start;
  global.gc?.();
  const rssAfter = process.memoryUsage().rss;
  const dropped = stats.droppedQueueFull + stats.droppedUnsent + stats.droppedOversized + stats.droppedInvalid;
  // The router counts what it took off the socket; give it a moment.
  let accepted = 0;
  for (let i = 0; i < 100 && accepted < stats.sent; i++, await sleep(50)) accepted = router.accepted();
  router.stop();
  console.log(`\n${CALLS} incr() ${turns ? `in turns of ${TURN}` : 'in one synchronous loop'}, router up:`);
  console.log(`  calls ${CALLS} = sent ${stats.sent} + dropped ${dropped} ` +
    `(queue full ${stats.droppedQueueFull}, unsent ${stats.droppedUnsent}): ${stats.sent + dropped === CALLS ? 'all accounted for' : 'MISMATCH'}`);
  console.log(`  router accepted ${accepted}: ${accepted === stats.sent ? 'matches sent' : 'DOES NOT MATCH sent'}`);
  console.log(`  ${(CALLS / (elapsedMs / 1000) / 1e6).toFixed(2)} M calls/s end to end (calls ${callsMs.toFixed(0)} ms, until closed ${elapsedMs.toFixed(0)} ms), ${stats.packetsSent} packets`);
  console.log(`  RSS before ${mib(rssBefore)} MiB, peak ${mib(rssPeak)} MiB, after ${mib(rssAfter)} MiB`);
}

async function main() {
  console.log(`node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0].model}), ${CALLS} calls per row\n`);
  if (PART !== 'router') await compareWithHotShots();
  if (PART !== 'compare') {
    await fullSpeedIntoRouter(true);
    await fullSpeedIntoRouter(false);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
