// Runs sentry-testkit's local Sentry server for sentry_e2e_test: usage
//   node sentry_testkit_server.js TESTKIT_DIR PROJECT_ID
// Prints "READY <sentry port> <reports port>" once both listen; GET / on the
// reports port answers testkit.reports(), the events the server parsed, as
// JSON. Runs until killed.
'use strict';
const http = require('http');
const path = require('path');

const [testkitDir, projectId] = process.argv.slice(2);
const sentryTestkit = require(path.join(testkitDir, 'node_modules', 'sentry-testkit'));
const { testkit, localServer } = sentryTestkit();

async function main() {
  await localServer.start(`http://key@127.0.0.1/${projectId}`);
  const sentryPort = new URL(localServer.getDsn()).port;
  const reports = http.createServer((request, response) => {
    response.setHeader('Content-Type', 'application/json');
    response.end(JSON.stringify(testkit.reports()));
  });
  reports.listen(0, '127.0.0.1', () => {
    console.log(`READY ${sentryPort} ${reports.address().port}`);
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
