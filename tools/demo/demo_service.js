// The demo's pretend web service in Node.js (tools/demo_app's twin, logger
// "demo_node"): request counters with endpoint and status fields,
// long-tailed latency timers, gauges, logs, and an exception now and then.
//   NODE_PATH=... node tools/demo/demo_service.js [rate] [seconds]
// Sends to $METLOG_ENDPOINT (else tcp://127.0.0.1:5565); stops after
// `seconds` (0: never) or on SIGINT/SIGTERM.
'use strict';
const path = require('path');
const { clientFromEnv } = require(
  process.env.METLOG_NODE_CLIENT || path.join(__dirname, '..', '..', 'client', 'node'));

// name, share of requests, median milliseconds, chance of a 5xx
const ROUTES = [['home', 0.4, 8, 0.002], ['items', 0.35, 25, 0.01],
  ['checkout', 0.15, 120, 0.04], ['login', 0.1, 40, 0.01]];

function pickRoute() {
  let pick = Math.random();
  for (const route of ROUTES) {
    if (pick < route[1]) return route;
    pick -= route[1];
  }
  return ROUTES[0];
}

// Log-normal around the median (Box-Muller), plus a Pareto tail for 2%.
function latencyMs(median) {
  const normal = Math.sqrt(-2 * Math.log(1 - Math.random())) *
    Math.cos(2 * Math.PI * Math.random());
  let ms = median * Math.exp(0.5 * normal);
  if (Math.random() < 0.02) ms += median * 5 / Math.pow(1 - Math.random(), 1 / 1.5);
  return ms;
}

function serveOne(metlog) {
  const [endpoint, , median, serverErrors] = pickRoute();
  const status = Math.random() < serverErrors ? 500 : Math.random() < 0.03 ? 404 : 200;
  const elapsed = latencyMs(median);
  metlog.incr('requests', { fields: { endpoint, status } });
  metlog.timerSend('request_latency', elapsed, { fields: { endpoint } });
  if (elapsed > 1000) metlog.warn(`slow request: ${endpoint} took ${Math.round(elapsed)} ms`);
  if (status === 500) metlog.exception(new Error(`database timeout while serving ${endpoint}`));
}

async function main() {
  const rate = Number(process.argv[2] || 10);
  const seconds = Number(process.argv[3] || 0);
  const metlog = clientFromEnv('demo_node');
  const requests = setInterval(() => serveOne(metlog), 1000 / rate);
  const gauges = setInterval(() => {
    metlog.gauge('inflight', Math.floor(Math.random() * 8));
    metlog.info('still serving');
  }, 1000);
  const stop = async () => {
    clearInterval(requests);
    clearInterval(gauges);
    await metlog.close();
    console.log('demo_service.js: sent', metlog.stats().sent);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (seconds > 0) setTimeout(stop, seconds * 1000).unref();
}

main();
