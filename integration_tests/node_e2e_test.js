'use strict';
// The Node.js client end to end: programs using only the installed `metlog`
// package send counters, timers, a gauge, logs and an exception over ZeroMQ,
// and counters over UDP, to the real router binary, whose file sink writes
// JSON lines; every field is checked. Signed packets pass require_signature.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, execFileSync } = require('node:child_process');

const runfiles = process.cwd();
const tmp = process.env.TEST_TMPDIR;

// The package laid out as `npm pack` ships it (package.json "files").
function installPackage(appDir) {
  const dest = path.join(appDir, 'node_modules', 'metlog');
  const source = path.join(runfiles, 'client', 'node');
  for (const file of ['package.json', 'index.js', 'index.d.ts', 'lib']) {
    fs.cpSync(path.join(source, file), path.join(dest, file), { recursive: true, dereference: true });
  }
  fs.mkdirSync(path.join(dest, 'proto'));
  fs.copyFileSync(path.join(runfiles, 'proto', 'metlog.proto'), path.join(dest, 'proto', 'metlog.proto'));
  fs.copyFileSync(path.join(runfiles, 'integration_tests', 'node_e2e_program.js'), path.join(appDir, 'program.js'));
}

// Starts the router on `config`; resolves with the process and its ZeroMQ
// endpoint once it logs that the input listens.
function startRouter(name, config) {
  const configPath = path.join(tmp, `${name}.textproto`);
  fs.writeFileSync(configPath, config);
  const router = spawn(path.join(runfiles, 'router', 'router'), [`--config=${configPath}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  return new Promise((resolve, reject) => {
    // A router that never listens must not outlive the test.
    const fail = (error) => {
      router.kill('SIGKILL');
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error(`router did not listen:\n${stderr}`)), 15000);
    const exitedEarly = (code) => {
      clearTimeout(timer);
      reject(new Error(`router exited (${code}) at start:\n${stderr}`));
    };
    router.once('exit', exitedEarly);
    router.stderr.on('data', (chunk) => {
      stderr += chunk;
      const match = /((?:tcp|udp):\/\/127\.0\.0\.1:\d+) listening/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        router.removeListener('exit', exitedEarly);
        resolve({ router, endpoint: match[1], stderr: () => stderr });
      }
    });
  });
}

// SIGTERM, then waits for the router to exit (if it still runs).
async function stopRouter(router) {
  if (router.exitCode !== null) return;
  const exited = new Promise((resolve) => router.on('exit', resolve));
  router.kill('SIGTERM');
  await exited;
}

// The sink's complete lines: one it is still writing has no newline yet.
async function waitForLines(file, count, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    const lines = text.split('\n').slice(0, -1).filter(Boolean);
    if (lines.length >= count || Date.now() > deadline) return lines.map((line) => JSON.parse(line));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// Nanoseconds since the epoch of the file sink's RFC 3339 timestamp
// ("2026-11-25T15:45:00.123456789Z").
function timestampNs(text) {
  assert.match(text, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  return BigInt(Date.parse(`${text.slice(0, 19)}Z`)) * 1000000n + BigInt(text.slice(20, 29));
}

test("a Node.js program's messages reach the router's file sink, field by field", async () => {
  const sinkFile = path.join(tmp, 'node_e2e.jsonl');
  const { router, endpoint, stderr } = await startRouter('node_e2e', `
    inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] { endpoint: "tcp://127.0.0.1:*" } } }
    admin { listen_address: "127.0.0.1:0" }
    stats_interval_ms: 0
    sinks { name: "all" match: "TRUE" queue { flush_interval_ms: 10 }
      options { [type.googleapis.com/metlog.sinks.FileOptions] { path: "${sinkFile}" } } }
  `);
  try {
    const appDir = path.join(tmp, 'app');
    installPackage(appDir);
    const startNs = BigInt(Date.now() - 1) * 1000000n;
    const out = execFileSync(process.execPath, [path.join(appDir, 'program.js')], {
      cwd: appDir,
      encoding: 'utf8',
      env: { ...process.env, METLOG_ENDPOINT: endpoint, NODE_OPTIONS: '' },
      timeout: 30000,
    });
    const endNs = BigInt(Date.now() + 1) * 1000000n;
    const { pid, stats } = JSON.parse(out);
    assert.equal(stats.sent, 10);
    assert.equal(stats.droppedUnsent + stats.droppedQueueFull + stats.droppedOversized + stats.droppedClosed, 0);

    const messages = await waitForLines(sinkFile, 10);
    assert.equal(messages.length, 10, stderr());
    const uuids = new Set();
    for (const m of messages) {
      assert.equal(m.logger, 'node-e2e');
      assert.equal(m.pid, pid);
      assert.equal(m.hostname, os.hostname());
      assert.equal(m.env_version, '1.0');
      assert.match(m.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      uuids.add(m.uuid);
      const ns = timestampNs(m.timestamp);
      assert.ok(ns >= startNs && ns <= endNs, `timestamp ${m.timestamp}`);
    }
    assert.equal(uuids.size, 10);
    const [orders, items, dbQuery, work, fetch, gauge, info, warn, audit, exception] = messages;

    assert.deepEqual([orders.type, orders.severity, orders.severity_name, orders.payload], ['counter', 6, 'INFO', '1']);
    assert.deepEqual(orders.fields, { name: 'orders', rate: 1 });
    assert.deepEqual([items.type, items.payload, items.fields.name], ['counter', '3', 'items']);

    assert.deepEqual([dbQuery.type, dbQuery.payload], ['timer', '12.5']);
    assert.deepEqual(dbQuery.fields, { name: 'db.query', rate: 1 });
    assert.deepEqual([work.type, work.fields.name], ['timer', 'work']);
    assert.ok(Number(work.payload) >= 2, work.payload);
    assert.deepEqual([fetch.type, fetch.fields.name], ['timer', 'fetch']);
    assert.ok(Number(fetch.payload) >= 4, fetch.payload);

    assert.deepEqual([gauge.type, gauge.payload, gauge.fields], ['gauge', '17', { name: 'queue.depth' }]);

    assert.deepEqual([info.type, info.severity, info.payload, info.fields], ['log', 6, 'service started', {}]);
    assert.deepEqual([warn.type, warn.severity, warn.payload], ['log', 4, 'stock low']);
    assert.deepEqual(warn.fields, { sku: 'A-1', left: 2 });
    assert.deepEqual([audit.type, audit.severity, audit.payload], ['audit', 6, 'signed in']);
    assert.deepEqual(audit.fields, { user: 7, admin: true, score: 0.5, tags: ['a', 'b'] });

    assert.equal(exception.type, 'exception');
    assert.equal(exception.severity, 1);
    assert.match(exception.payload, /JSON/);
    assert.equal(exception.fields.exception_type, 'SyntaxError');
    assert.equal(exception.fields.message, exception.payload);
    assert.match(exception.fields.stack, /^SyntaxError: .*\n\s+at JSON\.parse/);
  } finally {
    await stopRouter(router);
  }
  assert.equal(router.exitCode, 0, stderr());
});

test("the UDP sender reaches the router's UDP input", async () => {
  const sinkFile = path.join(tmp, 'node_udp.jsonl');
  const { router, endpoint, stderr } = await startRouter('node_udp', `
    inputs { options { [type.googleapis.com/metlog.v1.UdpInputConfig] { address: "127.0.0.1:0" } } }
    admin { listen_address: "127.0.0.1:0" }
    stats_interval_ms: 0
    sinks { name: "all" match: "TRUE" queue { flush_interval_ms: 10 }
      options { [type.googleapis.com/metlog.sinks.FileOptions] { path: "${sinkFile}" } } }
  `);
  try {
    const appDir = path.join(tmp, 'udp_app');
    installPackage(appDir);
    const program = `
      const { clientFromConfig } = require('metlog');
      const metlog = clientFromConfig({ logger: 'node-udp', sender: { type: 'udp', address: process.argv[1] } });
      for (let i = 0; i < 50; i++) metlog.incr('u' + i);
      metlog.close().then((stats) => console.log(JSON.stringify(stats)));
    `;
    const out = execFileSync(process.execPath, ['-e', program, endpoint.replace('udp://', '')], {
      cwd: appDir,
      encoding: 'utf8',
      env: { ...process.env, NODE_PATH: `${path.join(appDir, 'node_modules')}:${process.env.NODE_PATH}`, NODE_OPTIONS: '' },
      timeout: 30000,
    });
    assert.equal(JSON.parse(out).sent, 50);
    const messages = await waitForLines(sinkFile, 50);
    assert.equal(messages.length, 50, stderr());
    messages.forEach((m, i) => {
      assert.deepEqual([m.type, m.logger, m.payload], ['counter', 'node-udp', '1']);
      assert.equal(m.fields.name, `u${i}`);
    });
  } finally {
    await stopRouter(router);
  }
});

test('packets the Node.js sender signs pass require_signature; a wrong key is refused', async () => {
  const sinkFile = path.join(tmp, 'node_signed.jsonl');
  const { router, endpoint, stderr } = await startRouter('node_signed', `
    signers { name: "svc" keys { version: 3 key: "s3cret" } }
    inputs { require_signature: true options { [type.googleapis.com/metlog.v1.ZmqInputConfig] { endpoint: "tcp://127.0.0.1:*" } } }
    admin { listen_address: "127.0.0.1:0" }
    stats_interval_ms: 0
    sinks { name: "all" match: "TRUE" queue { flush_interval_ms: 10 }
      options { [type.googleapis.com/metlog.sinks.FileOptions] { path: "${sinkFile}" } } }
  `);
  try {
    const appDir = path.join(tmp, 'signed_app');
    installPackage(appDir);
    const program = `
      const { MetlogClient, ZmqSender } = require('metlog');
      const [endpoint, key, payload] = process.argv.slice(1);
      const sender = new ZmqSender(endpoint, { signer: { name: 'svc', keyVersion: 3, key } });
      const metlog = new MetlogClient({ sender, logger: 'node-signed' });
      metlog.info(payload + ' 1');
      metlog.info(payload + ' 2');
      metlog.close().then((stats) => console.log(JSON.stringify(stats)));
    `;
    const send = (key, payload) => {
      const out = execFileSync(process.execPath, ['-e', program, endpoint, key, payload], {
        cwd: appDir,
        encoding: 'utf8',
        env: { ...process.env, NODE_PATH: `${path.join(appDir, 'node_modules')}:${process.env.NODE_PATH}`, NODE_OPTIONS: '' },
        timeout: 30000,
      });
      assert.equal(JSON.parse(out).sent, 2);
    };
    send('wrong', 'forged');
    // The router refuses the packet that held both forged messages.
    const deadline = Date.now() + 15000;
    while (!/input zmq: rejected 1 from .*HMAC does not match/.test(stderr()) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.match(stderr(), /input zmq: rejected 1 from .*HMAC does not match/);
    send('s3cret', 'signed');
    const messages = await waitForLines(sinkFile, 2);
    assert.deepEqual(messages.map((m) => m.payload).sort(), ['signed 1', 'signed 2'], stderr());
  } finally {
    await stopRouter(router);
  }
});
