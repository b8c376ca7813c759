'use strict';
// Checks the ZeroMQ endpoints a sender connects to, as the C++ client's
// client/endpoint.h does, so that one that cannot work is found when the
// sender is made instead of dropping every message as unsent. Unlike the C++
// check, a host name is not looked up here (Node.js has no synchronous
// lookup): an unresolvable one is ZeroMQ's to retry, and its packets count as
// droppedUnsent.
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const TCP = /^tcp:\/\/(\[[^\]]*\]|[^:/[\]]+):([0-9]{1,5})$/;
const HOST_NAME = /^[A-Za-z0-9_.-]+$/;

function tcpProblem(endpoint) {
  const match = TCP.exec(endpoint);
  if (match === null) return 'expected tcp://HOST:PORT';
  const [, host, port] = match;
  if (Number(port) < 1 || Number(port) > 65535) return 'port must be 1..65535';
  if (host.startsWith('[')) {
    return net.isIPv6(host.slice(1, -1)) ? null : `not an IPv6 address: ${host}`;
  }
  return HOST_NAME.test(host) ? null : `not a host name or address: ${host}`;
}

function ipcProblem(socketPath) {
  if (socketPath.startsWith('@')) return socketPath.length > 1 ? null : 'empty abstract socket name';
  if (socketPath === '') return 'empty path';
  const directory = path.dirname(socketPath);
  try {
    if (fs.statSync(directory).isDirectory()) return null;
  } catch (_) {
    // Reported below, as for a path that is not a directory.
  }
  return `no such directory: ${directory}`;
}

// Why `endpoint` cannot work, or null: tcp://HOST:PORT (PORT 1..65535, HOST
// an address, a [bracketed IPv6 address] or a name), ipc://PATH whose
// directory exists or ipc://@abstract, inproc://NAME.
function endpointProblem(endpoint) {
  let problem;
  if (typeof endpoint !== 'string') problem = 'not a string';
  else if (endpoint.startsWith('tcp://')) problem = tcpProblem(endpoint);
  else if (endpoint.startsWith('ipc://')) problem = ipcProblem(endpoint.slice('ipc://'.length));
  else if (endpoint.startsWith('inproc://')) problem = endpoint.length > 'inproc://'.length ? null : 'empty name';
  else problem = 'expected tcp://, ipc:// or inproc://';
  return problem === null ? null : `bad endpoint ${JSON.stringify(endpoint) ?? String(endpoint)}: ${problem}`;
}

// Why the endpoint list cannot work, or null.
function endpointsProblem(endpoints) {
  if (!Array.isArray(endpoints) || endpoints.length === 0) return 'no endpoint given';
  for (const endpoint of endpoints) {
    const problem = endpointProblem(endpoint);
    if (problem !== null) return problem;
  }
  return null;
}

module.exports = { endpointProblem, endpointsProblem };
