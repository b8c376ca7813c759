"""End to end: e2e_program.py, using only the metlog package, sends to the
real router binary over ZeroMQ; the router's file sink output is checked
field by field."""

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import uuid


from metlog import metlog_pb2
from test_support import field_values

RUNFILES = os.path.join(os.environ.get('TEST_SRCDIR', ''), 'metlog')


def runfile(path):
    return os.path.join(RUNFILES, path)


class RouterProcess:
    """//router with a config: one ZeroMQ input on a free port, a file sink
    writing JSON lines to `output`."""

    def __init__(self, workdir, signer_key=None):
        """With `signer_key`, the input requires packets signed by signer
        "svc", key version 3, under that key."""
        self.output = os.path.join(workdir, 'messages.jsonl')
        config = os.path.join(workdir, 'router.textproto')
        signing = ''
        if signer_key is not None:
            signing = ('signers { name: "svc" keys { version: 3 key: "%s" } }'
                       % signer_key)
        with open(config, 'w') as out:
            out.write(signing + '''
                inputs { require_signature: %s options { [type.googleapis.com/metlog.v1.ZmqInputConfig] { endpoint: "tcp://127.0.0.1:*" } } }
                admin { listen_address: "127.0.0.1:0" }
                stats_interval_ms: 0
                sinks {
                  name: "file" match: 'Logger == "e2e_app"'
                  queue { flush_interval_ms: 10 }
                  options {
                    [type.googleapis.com/metlog.sinks.FileOptions] {
                      path: "%s" encoding { codec: PROTOBUF } } } }
                ''' % ('true' if signer_key else 'false', self.output))
        self.stderr_path = os.path.join(workdir, 'router.stderr')
        self.stderr = open(self.stderr_path, 'w')
        self.process = subprocess.Popen(
            [runfile('router/router'), '--config=' + config],
            stdout=subprocess.DEVNULL, stderr=self.stderr)
        self.endpoint = self._wait_for_endpoint()

    def _wait_for_endpoint(self):
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with open(self.stderr_path) as log:
                match = re.search(r'input zmq (tcp://\S+) listening',
                                  log.read())
            if match:
                return match.group(1)
            if self.process.poll() is not None:
                raise RuntimeError('router exited at start: '
                                   + open(self.stderr_path).read())
            time.sleep(0.02)
        raise RuntimeError('router did not start listening')

    def wait_for_log(self, pattern, timeout=15):
        """Whether the router's log matches `pattern` within `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.stderr_path) as log:
                if re.search(pattern, log.read()):
                    return True
            time.sleep(0.02)
        return False

    def messages(self, count, timeout=15):
        """The file sink's messages, once it holds `count` (or timeout)."""
        deadline = time.monotonic() + timeout
        messages = []
        while time.monotonic() < deadline:
            if os.path.exists(self.output):
                with open(self.output, 'rb') as out:
                    # A record the sink is still writing is left out.
                    messages = read_delimited(out.read())
                if len(messages) >= count:
                    break
            time.sleep(0.02)
        return messages

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=10)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self.stderr.close()


def read_delimited(data):
    """Length-delimited Message records (a varint size, then the message),
    up to the end or to a record the router is still writing."""
    messages, position = [], 0
    while position < len(data):
        size, shift = 0, 0
        while position < len(data):
            byte = data[position]
            position += 1
            size |= (byte & 0x7f) << shift
            shift += 7
            if byte < 0x80:
                break
        else:
            return messages
        if position + size > len(data):
            return messages
        message = metlog_pb2.Message()
        message.ParseFromString(data[position:position + size])
        messages.append(message)
        position += size
    return messages


class RouterEndToEndTest(unittest.TestCase):
    def test_metlog_py_program_reaches_the_file_sink(self):
        router = RouterProcess(os.environ['TEST_TMPDIR'])
        self.addCleanup(lambda: router.process.poll() is None
                        and router.stop())
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path),
                   METLOG_E2E_ROUTER=router.endpoint)
        started_ns = time.time_ns()
        program = subprocess.Popen(
            [sys.executable, runfile('client/python/tests/e2e_program.py')],
            env=env)
        # A program that hangs must not outlive the test.
        self.addCleanup(lambda: program.poll() is None and program.kill())
        self.assertEqual(program.wait(timeout=30), 0)
        finished_ns = time.time_ns()

        messages = router.messages(6)
        self.assertEqual(router.stop(), 0)
        # The debug line is dropped by the program's own severity filter.
        self.assertEqual(len(messages), 6, [m.type for m in messages])
        for m in messages:
            self.assertEqual(m.logger, 'e2e_app')
            self.assertEqual(m.pid, program.pid)
            self.assertEqual(m.hostname, socket.gethostname())
            self.assertEqual(m.env_version, '0.8')
            self.assertEqual(uuid.UUID(bytes=m.uuid).version, 4)
            # Stamped by the program (microseconds), not by the router.
            self.assertTrue(started_ns <= m.timestamp <= finished_ns)
            self.assertEqual(m.timestamp % 1000, 0)
        self.assertEqual(len({m.uuid for m in messages}), 6)
        orders, checkout, query, render, login, error = messages

        self.assertEqual((orders.type, orders.severity, orders.payload),
                         ('counter', 6, '3'))
        self.assertEqual(field_values(orders), {
            'shop': ['eu'], 'name': ['orders'], 'rate': [1.0]})
        self.assertEqual((checkout.type, checkout.payload), ('counter', '1'))
        self.assertEqual(field_values(checkout), {
            'name': ['checkout.calls'], 'rate': [1.0]})
        self.assertEqual(query.type, 'timer')
        self.assertGreaterEqual(int(query.payload), 10)
        self.assertEqual(field_values(query), {'name': ['db.query'],
                                               'rate': [1.0]})
        self.assertEqual((render.type, render.payload), ('timer', '25'))
        self.assertEqual(field_values(render), {'name': ['render'],
                                                'rate': [0.5]})
        self.assertEqual((login.type, login.severity, login.payload),
                         ('oldstyle', 6, 'user ann logged in'))
        self.assertEqual(list(login.fields), [])
        self.assertEqual((error.type, error.severity), ('oldstyle', 1))
        lines = error.payload.split('\n')
        self.assertEqual(lines[:2], ['request failed',
                                     'Traceback (most recent call last):'])
        self.assertIn("{}['missing']", error.payload)
        self.assertEqual(lines[-1], "KeyError: 'missing'")


class SignedPacketsTest(unittest.TestCase):
    """Packets the Python sender signs pass the router's own check, with
    require_signature; a wrong key is refused, counted, and never written."""

    def test_only_packets_signed_with_the_right_key_reach_the_sink(self):
        from metlog.client import MetlogClient
        from metlog.senders import ZmqPubSender
        router = RouterProcess(tempfile.mkdtemp(dir=os.environ['TEST_TMPDIR']),
                               signer_key='s3cret')
        self.addCleanup(lambda: router.process.poll() is None
                        and router.stop())

        def send(key, payloads):
            sender = ZmqPubSender(router.endpoint, signer='svc', key=key,
                                  key_version=3)
            client = MetlogClient(sender, 'e2e_app')
            for payload in payloads:
                client.info(payload)
            sender.flush(5)
            self.assertEqual(sender.stats()['sent'], len(payloads))
            sender.close()

        send('wrong', ['forged 1', 'forged 2'])
        # One packet held both messages; the router refuses it whole.
        self.assertTrue(router.wait_for_log(
            r'input zmq: rejected 1 from .*HMAC does not match'),
            'router log has no refusal')
        send('s3cret', ['signed 1', 'signed 2'])

        messages = router.messages(2)
        self.assertEqual(router.stop(), 0)
        self.assertEqual(sorted(m.payload for m in messages),
                         ['signed 1', 'signed 2'])


if __name__ == '__main__':
    unittest.main()
