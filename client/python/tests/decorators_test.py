"""timeit and incr_count: lazily bound to the configured default client."""

import json
import os
import socket
import unittest

from metlog.client import MetlogClient
from metlog.config import client_from_dict_config
from metlog.decorators import incr_count, timeit
from metlog.holder import CLIENT_HOLDER


@timeit
def timed_add(x, y):
    return x + y


class DecoratorTestBase(unittest.TestCase):
    client_name = '_decorator_test'

    def setUp(self):
        self.saved_default = CLIENT_HOLDER.global_config.get('default')
        self.saved_disabled = CLIENT_HOLDER.global_config.get(
            'disabled_decorators')
        client = CLIENT_HOLDER.get_client(self.client_name)
        self.client = client_from_dict_config(
            {'sender_class': 'metlog.senders.DebugCaptureSender'}, client)
        CLIENT_HOLDER.set_default_client_name(self.client_name)

    def tearDown(self):
        CLIENT_HOLDER.delete_client(self.client_name)
        if self.saved_default is not None:
            CLIENT_HOLDER.set_default_client_name(self.saved_default)
        CLIENT_HOLDER.global_config['disabled_decorators'] = (
            self.saved_disabled or [])
        timed_add._client = None

    def messages(self):
        return [json.loads(m) for m in self.client.sender.msgs]


class CannedDecoratorsTest(DecoratorTestBase):
    def test_module_level_function(self):
        self.assertEqual(timed_add(3, 4), 7)
        self.assertEqual(timed_add(4, 5), 9)
        msgs = self.messages()
        self.assertEqual(len(msgs), 2)
        self.assertEqual(msgs[0]['type'], 'timer')
        self.assertEqual(msgs[0]['fields']['name'], '%s.timed_add'
                         % __name__)
        self.assertEqual(timed_add.__name__, 'timed_add')

    def test_passed_name(self):
        @timeit('different.timer.name')
        def timed_fn(x, y):
            return x + y

        self.assertEqual(timed_fn(3, 5), 8)
        self.assertEqual(self.messages()[-1]['fields']['name'],
                         'different.timer.name')

    def test_ordering_follows_the_call_nesting(self):
        @incr_count
        @timeit
        def ordering_1(x, y):
            return x + y

        self.assertEqual(ordering_1(5, 6), 11)
        msgs = self.messages()
        self.assertEqual([m['type'] for m in msgs], ['timer', 'counter'])
        for msg in msgs:
            self.assertEqual(msg['fields']['name'],
                             '%s.ordering_1' % __name__)
        self.assertEqual(len(ordering_1._metlog_decorators), 2)

    def test_methods(self):
        class Stub:
            def __init__(self, value):
                self.value = value

            @incr_count
            @timeit
            def get_value(self):
                return self.value

        self.assertEqual(Stub(7).get_value(), 7)
        self.assertEqual(Stub(8).get_value(), 8)
        self.assertEqual([m['type'] for m in self.messages()],
                         ['timer', 'counter'] * 2)

    def test_incr_count_counts_calls_that_raise(self):
        @incr_count
        def fails():
            raise RuntimeError('no')

        with self.assertRaises(RuntimeError):
            fails()
        self.assertEqual(self.messages()[-1]['type'], 'counter')


class DecoratorArgsTest(DecoratorTestBase):
    def test_incr_arguments_reach_the_message(self):
        @incr_count(name='qdo.foo', count=5, timestamp=0, logger='somelogger',
                    severity=2)
        def simple(x, y):
            return x + y

        simple(5, 6)
        self.assertEqual(self.messages(), [{
            'severity': 2, 'timestamp': 0,
            'fields': {'name': 'qdo.foo', 'rate': 1.0},
            'logger': 'somelogger', 'type': 'counter', 'payload': '5',
            'env_version': MetlogClient.env_version,
            'metlog_hostname': socket.gethostname(),
            'metlog_pid': os.getpid()}])

    def test_timeit_arguments_reach_the_message(self):
        @timeit(name='qdo.timeit', timestamp=8231, logger='timeit_logger',
                severity=5, fields={'anumber': 42, 'atext': 'foo'}, rate=1)
        def simple(x, y):
            return x + y

        simple(5, 6)
        msg = self.messages()[0]
        self.assertEqual(msg['fields'], {'anumber': 42, 'atext': 'foo',
                                         'name': 'qdo.timeit', 'rate': 1})
        self.assertEqual((msg['timestamp'], msg['logger'], msg['severity']),
                         (8231, 'timeit_logger', 5))

    def test_bad_arguments_fail_at_the_call(self):
        @incr_count(name='qdo.foo', bad_arg=42)
        def invalid(x, y):
            return x + y

        with self.assertRaises(TypeError):
            invalid(3, 5)

    def test_explicit_client(self):
        other = MetlogClient(None, 'other')
        other.setup(sender=self.client.sender, logger='other')

        @incr_count(client=other)
        def counted():
            return 1

        counted()
        self.assertEqual(self.messages()[-1]['logger'], 'other')


class DisabledDecoratorsTest(DecoratorTestBase):
    def test_globally_disabled_decorator(self):
        CLIENT_HOLDER.global_config['disabled_decorators'] = {'timeit'}

        @timeit
        def simple(x, y):
            return x + y

        @incr_count
        def counted():
            return 1

        self.assertEqual(simple(5, 6), 11)
        counted()
        self.assertEqual([m['type'] for m in self.messages()], ['counter'])

    def test_disabled_timer_name(self):
        @timeit
        def simple(x, y):
            return x + y

        @timeit
        def simple2(x, y):
            return x + y

        self.client._disabled_timers = {'%s.simple' % __name__}
        simple(1, 2)
        simple2(3, 4)
        msgs = self.messages()
        self.assertEqual(len(msgs), 1)
        self.assertEqual(msgs[0]['fields']['name'], '%s.simple2' % __name__)


if __name__ == '__main__':
    unittest.main()
