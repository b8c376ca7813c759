'use strict';
// Clients from a JSON config object and from the environment:
//   METLOG_ENDPOINT  replaces the ZeroMQ endpoints with this one
//   METLOG_LOGGER    replaces the logger
// The environment wins, as in the C++ client, so one program can be pointed
// elsewhere per deployment.
const { MetlogClient } = require('./client');
const filterProviders = require('./filters');
const { ZmqSender } = require('./zmq_sender');
const { UdpSender } = require('./udp_sender');
const { StdoutSender } = require('./stdout_sender');
const { CaptureSender } = require('./capture_sender');

const DEFAULT_ENDPOINT = 'tcp://127.0.0.1:5565';
const CLIENT_KEYS = ['logger', 'severity', 'disabledTimers', 'filters', 'sender'];
const FILTER_KEYS = Object.keys(filterProviders);

function checkKeys(object, allowed, where) {
  const unknown = Object.keys(object).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new TypeError(`metlog: unknown key(s) ${unknown.join(', ')} in ${where}; expected ${allowed.join(', ')}`);
  }
}

function makeSender(config) {
  const { type = 'zmq', ...options } = config;
  switch (type) {
    case 'zmq': {
      const { endpoints = [DEFAULT_ENDPOINT], ...rest } = options;
      return new ZmqSender(endpoints, rest);
    }
    case 'udp': {
      const { address = '127.0.0.1:5565', ...rest } = options;
      return new UdpSender(address, rest);
    }
    case 'stdout':
      checkKeys(options, [], 'sender (stdout)');
      return new StdoutSender();
    case 'capture':
      checkKeys(options, ['limit'], 'sender (capture)');
      return new CaptureSender(options);
    default:
      throw new TypeError(`metlog: unknown sender type "${type}"; expected zmq, udp, stdout or capture`);
  }
}

function makeFilters(config) {
  checkKeys(config, FILTER_KEYS, 'filters');
  return Object.entries(config).map(([name, argument]) => filterProviders[name](argument));
}

// `config` with METLOG_ENDPOINT and METLOG_LOGGER from `env` applied.
function withEnvironment(config, env) {
  const result = { ...config, sender: { ...(config.sender ?? {}) } };
  if (env.METLOG_LOGGER) result.logger = env.METLOG_LOGGER;
  if (env.METLOG_ENDPOINT && (result.sender.type ?? 'zmq') === 'zmq') {
    result.sender.endpoints = [env.METLOG_ENDPOINT];
  }
  return result;
}

// A client from a JSON config object, e.g.
//   { "logger": "shop", "severity": 6, "disabledTimers": ["db"],
//     "filters": { "severityMax": 6, "typeBlacklist": ["debug"] },
//     "sender": { "type": "zmq", "endpoints": ["tcp://127.0.0.1:5565"],
//                 "queueCapacity": 65536,
//                 "signer": { "name": "shop", "keyVersion": 1, "key": "..." } } }
// Sender types: zmq (default), udp { address }, stdout, capture { limit }.
// Throws a TypeError naming any unknown key. `env` (process.env unless
// given; null to ignore it) wins over the config.
function clientFromConfig(config, { env = process.env } = {}) {
  if (config === null || typeof config !== 'object') {
    throw new TypeError('metlog: clientFromConfig needs a config object');
  }
  checkKeys(config, CLIENT_KEYS, 'the client config');
  const effective = env ? withEnvironment(config, env) : { ...config, sender: config.sender ?? {} };
  return new MetlogClient({
    sender: makeSender(effective.sender),
    logger: effective.logger,
    severity: effective.severity,
    disabledTimers: effective.disabledTimers,
    filters: makeFilters(effective.filters ?? {}),
  });
}

// A client on the ZeroMQ sender to METLOG_ENDPOINT (else the router's
// default endpoint), with METLOG_LOGGER or `logger`.
function clientFromEnv(logger = '', env = process.env) {
  return clientFromConfig({ logger }, { env });
}

module.exports = { clientFromConfig, clientFromEnv, DEFAULT_ENDPOINT };
