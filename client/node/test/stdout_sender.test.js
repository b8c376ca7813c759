'use strict';
// StdoutSender: JSON lines in protobuf's JSON mapping, on a real process's
// standard output.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

test('a process writes one JSON envelope per line to its standard output', () => {
  const program = `
    const { MetlogClient, StdoutSender } = require(${JSON.stringify(path.join(__dirname, '..'))});
    const client = new MetlogClient({ sender: new StdoutSender(), logger: 'cli' });
    client.incr('runs', { count: 2 });
    client.error('line one\\nline two', { fields: { code: 7 } });
    client.close();
  `;
  const out = execFileSync(process.execPath, ['-e', program], { encoding: 'utf8' });
  const lines = out.trimEnd().split('\n');
  assert.equal(lines.length, 2);
  const [counter, log] = lines.map((line) => JSON.parse(line));
  assert.equal(counter.type, 'counter');
  assert.equal(counter.payload, '2');
  assert.equal(counter.logger, 'cli');
  assert.equal(counter.envVersion, '1.0');
  assert.match(counter.timestamp, /^\d{19}$/);
  assert.equal(Buffer.from(counter.uuid, 'base64').length, 16);
  assert.deepEqual(counter.fields, [
    { name: 'name', valueString: ['runs'] },
    { name: 'rate', valueType: 'DOUBLE', valueDouble: [1] },
  ]);
  assert.equal(log.severity, 3);
  assert.equal(log.payload, 'line one\nline two');
  assert.deepEqual(log.fields, [{ name: 'code', valueType: 'INTEGER', valueInteger: ['7'] }]);
});
