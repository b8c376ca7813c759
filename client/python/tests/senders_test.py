"""The development senders: stream, stdout, file, capture, stdlib logging,
and the NoSendSender placeholder."""

import io
import json
import logging
import os
import tempfile
import unittest
from unittest import mock

from metlog.client import MetlogClient
from metlog.senders import (DebugCaptureSender, FileSender, NoSendSender,
                            StdLibLoggingSender, StdOutSender, StreamSender)


def json_formatter(msg):
    return json.dumps(msg, sort_keys=True)


class StreamSendersTest(unittest.TestCase):
    def test_stream_sender_writes_indented_json(self):
        stream = io.StringIO()
        MetlogClient(StreamSender(stream), 'app').incr('n')
        msg = json.loads(stream.getvalue())
        self.assertEqual(msg['fields'], {'name': 'n', 'rate': 1.0})
        self.assertIn('\n    "type": "counter"', stream.getvalue())

    def test_formatter_by_dotted_name(self):
        stream = io.StringIO()
        sender = StreamSender(stream, formatter='senders_test.json_formatter')
        sender.send_message({'b': 1, 'a': 2})
        self.assertEqual(stream.getvalue(), '{"a": 2, "b": 1}\n')

    def test_stdout_sender(self):
        with mock.patch('sys.stdout', new_callable=io.StringIO) as stdout:
            StdOutSender(formatter=json_formatter).send_message({'x': 1})
        self.assertEqual(stdout.getvalue(), '{"x": 1}\n')

    def test_file_sender_appends(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'metlog.json')
            for payload in ('one', 'two'):
                sender = FileSender(path, formatter=json_formatter)
                MetlogClient(sender, 'app').info(payload)
                sender.stream.close()
            with open(path) as written:
                lines = [json.loads(line) for line in written]
        self.assertEqual([m['payload'] for m in lines], ['one', 'two'])


class DebugCaptureSenderTest(unittest.TestCase):
    def test_keeps_the_last_100_as_json(self):
        sender = DebugCaptureSender(extra='attr')
        self.assertEqual(sender.extra, 'attr')
        client = MetlogClient(sender, 'app')
        for i in range(150):
            client.incr('n', i)
        self.assertEqual(len(sender.msgs), 100)
        self.assertEqual(json.loads(sender.msgs[0])['payload'], '50')
        self.assertIsInstance(sender.msgs[-1], str)


class StdLibLoggingSenderTest(unittest.TestCase):
    def setUp(self):
        self.logger = logging.getLogger('metlog.tests.stdlib_sender')
        self.logger.propagate = False
        self.logger.setLevel(logging.DEBUG)
        self.records = []
        handler = logging.Handler()
        handler.emit = self.records.append
        self.logger.addHandler(handler)
        self.addCleanup(self.logger.removeHandler, handler)

    def test_payload_and_json_types(self):
        client = MetlogClient(StdLibLoggingSender(
            'metlog.tests.stdlib_sender', payload_types='oldstyle',
            json_types=['counter']), 'app')
        client.error('bad')
        client.incr('n')
        client.timer_send('dropped', 1)
        self.assertEqual([(r.levelno, r.getMessage()[:1])
                          for r in self.records],
                         [(logging.ERROR, 'b'), (logging.INFO, '{')])
        self.assertEqual(json.loads(self.records[1].getMessage())['type'],
                         'counter')

    def test_default_sends_everything_else_as_json(self):
        client = MetlogClient(StdLibLoggingSender(
            'metlog.tests.stdlib_sender'), 'app')
        client.metlog('custom', severity=0, payload='p')
        client.debug('dbg')
        self.assertEqual(self.records[0].levelno, logging.CRITICAL)
        self.assertEqual(json.loads(self.records[0].getMessage())['type'],
                         'custom')
        self.assertEqual((self.records[1].levelno,
                          self.records[1].getMessage()),
                         (logging.DEBUG, 'dbg'))


class NoSendSenderTest(unittest.TestCase):
    def test_raises_not_implemented(self):
        with self.assertRaises(NotImplementedError):
            NoSendSender().send_message({})


if __name__ == '__main__':
    unittest.main()
