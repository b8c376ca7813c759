"""MetlogClient's public calls, checked on the message dicts a
DebugCaptureSender records (the same JSON metlog-py 0.10 records)."""

import json
import logging
import os
import random
import socket
import sys
import time
import unittest
from datetime import datetime
from unittest import mock

from metlog import filters
from metlog.client import SEVERITY, MetlogClient
from metlog.holder import CLIENT_HOLDER, MetlogClientHolder, get_client
from metlog.logging import MetlogHandler, hook_logger
from metlog.senders import DebugCaptureSender, NoSendSender


class ListSender:
    """Keeps every message dict."""

    def __init__(self):
        self.msgs = []

    def send_message(self, msg):
        self.msgs.append(msg)


class ClientTestCase(unittest.TestCase):
    logger = 'tests'

    def setUp(self):
        self.sender = DebugCaptureSender()
        self.client = MetlogClient(self.sender, self.logger)

    def messages(self):
        return [json.loads(m) for m in self.sender.msgs]

    def last(self):
        return json.loads(self.sender.msgs[-1])


class MetlogCallTest(ClientTestCase):
    def test_bare_message_gets_the_client_defaults(self):
        before = datetime.utcnow().isoformat()
        self.client.metlog('testtype', payload='this is a test')
        after = datetime.utcnow().isoformat()
        msg = self.last()
        self.assertEqual(set(msg), {'type', 'timestamp', 'logger', 'severity',
                                    'payload', 'fields', 'env_version',
                                    'metlog_pid', 'metlog_hostname'})
        self.assertEqual(msg['type'], 'testtype')
        self.assertEqual(msg['payload'], 'this is a test')
        self.assertEqual(msg['severity'], 6)
        self.assertEqual(msg['logger'], self.logger)
        self.assertEqual(msg['fields'], {})
        self.assertEqual(msg['env_version'], '0.8')
        self.assertEqual(msg['metlog_pid'], os.getpid())
        self.assertEqual(msg['metlog_hostname'], socket.gethostname())
        self.assertLessEqual(before, msg['timestamp'])
        self.assertLessEqual(msg['timestamp'], after)
        # The same text utcnow().isoformat() gives.
        self.assertEqual(
            datetime.fromisoformat(msg['timestamp']).isoformat(),
            msg['timestamp'])

    def test_timestamps_are_utc_isoformat_to_the_microsecond(self):
        stamps = []
        for _ in range(2000):
            self.client.metlog('t')
            stamps.append(self.last()['timestamp'])
        for stamp in stamps:
            parsed = datetime.fromisoformat(stamp)
            self.assertIsNone(parsed.tzinfo)
            self.assertEqual(parsed.isoformat(), stamp)
        self.assertEqual(stamps, sorted(stamps, key=datetime.fromisoformat))
        self.assertLess(abs((datetime.utcnow() - datetime.fromisoformat(
            stamps[-1])).total_seconds()), 5)

    def test_explicit_values_override_the_defaults(self):
        now = datetime.utcnow()
        self.client.metlog('bawlp', timestamp=now, logger='alternate',
                           severity=2, payload='another test',
                           fields={'foo': 'bar', 'boo': 'far'})
        self.assertEqual(self.last(), {
            'type': 'bawlp', 'timestamp': now.isoformat(),
            'logger': 'alternate', 'severity': 2, 'payload': 'another test',
            'fields': {'foo': 'bar', 'boo': 'far'}, 'env_version': '0.8',
            'metlog_pid': os.getpid(),
            'metlog_hostname': socket.gethostname()})

    def test_non_datetime_timestamp_is_passed_through(self):
        self.client.metlog('t', timestamp=0)
        self.assertEqual(self.last()['timestamp'], 0)


class IncrTest(ClientTestCase):
    def test_counter_message(self):
        self.client.incr('incr')
        msg = self.last()
        self.assertEqual(msg['type'], 'counter')
        self.assertEqual(msg['logger'], self.logger)
        self.assertEqual(msg['payload'], '1')
        self.assertEqual(msg['fields'], {'name': 'incr', 'rate': 1.0})
        self.client.incr('incr', 10)
        self.assertEqual(self.last()['payload'], '10')

    def test_keyword_arguments(self):
        self.client.incr('n', count=3, logger='other', severity=2,
                         fields={'extra': 'x'}, timestamp=5)
        msg = self.last()
        self.assertEqual((msg['payload'], msg['logger'], msg['severity'],
                          msg['timestamp']), ('3', 'other', 2, 5))
        self.assertEqual(msg['fields'], {'extra': 'x', 'name': 'n',
                                         'rate': 1.0})

    def test_rate_samples_and_travels_with_the_message(self):
        sender = ListSender()
        client = MetlogClient(sender, 'sampling')
        random.seed(1234)
        for _ in range(1000):
            client.incr('sampled', rate=0.5)
        random.seed(1234)
        expected = sum(random.random() < 0.5 for _ in range(1000))
        self.assertTrue(400 < expected < 600)
        self.assertEqual(len(sender.msgs), expected)
        self.assertTrue(all(m['fields']['rate'] == 0.5 for m in sender.msgs))

    def test_rate_zero_sends_nothing(self):
        for _ in range(100):
            self.client.incr('never', rate=0)
        self.assertEqual(len(self.sender.msgs), 0)


class TimerTest(ClientTestCase):
    def test_context_manager(self):
        with self.client.timer('ctx') as timer:
            time.sleep(0.01)
        self.assertGreaterEqual(timer.result, 10)
        msg = self.last()
        self.assertEqual(msg['type'], 'timer')
        self.assertEqual(msg['payload'], str(timer.result))
        self.assertEqual(msg['fields'], {'name': 'ctx', 'rate': 1.0})

    def test_decorator_times_every_call(self):
        @self.client.timer('deco', fields={'k': 'v'})
        def timed(x):
            time.sleep(0.01)
            return x * 2

        self.assertEqual(len(self.sender.msgs), 0)
        self.assertEqual(timed.__name__, 'timed')
        self.assertEqual(timed(2), 4)
        self.assertEqual(timed(3), 6)
        msgs = self.messages()
        self.assertEqual(len(msgs), 2)
        for msg in msgs:
            self.assertGreaterEqual(int(msg['payload']), 10)
            self.assertEqual(msg['fields']['name'], 'deco')
            self.assertEqual(msg['fields']['k'], 'v')

    def test_decorator_rejects_non_callables(self):
        with self.assertRaises(ValueError):
            self.client.timer('x')(42)

    def test_disabled_timer_sends_nothing_and_can_be_reenabled(self):
        self.client._disabled_timers.add('test')
        with self.client.timer('test') as timer:
            pass
        self.assertIsNone(timer.result)

        @self.client.timer('test')
        def timed():
            return 1
        self.assertEqual(timed(), 1)
        self.assertEqual(len(self.sender.msgs), 0)
        with self.client.timer('other'):
            pass
        self.assertEqual(self.last()['fields']['name'], 'other')
        self.client._disabled_timers.remove('test')
        with self.client.timer('test'):
            pass
        self.assertEqual(self.last()['fields']['name'], 'test')

    def test_star_disables_every_timer(self):
        client = MetlogClient(self.sender, 'x', disabled_timers=['*'])
        with client.timer('a'):
            pass
        client.timer('b')(lambda: None)()
        self.assertEqual(len(self.sender.msgs), 0)

    def test_disabled_timers_given_as_one_string(self):
        client = MetlogClient(self.sender, 'x', disabled_timers='only')
        with client.timer('only'):
            pass
        with client.timer('kept'):
            pass
        self.assertEqual([m['fields']['name'] for m in self.messages()],
                         ['kept'])

    def test_sampled_out_timer_is_a_no_op(self):
        for _ in range(50):
            with self.client.timer('rare', rate=0):
                pass
        self.assertEqual(len(self.sender.msgs), 0)

    def test_timer_send(self):
        self.client.timer_send('manual', 42, rate=0.25, severity=3)
        msg = self.last()
        self.assertEqual((msg['type'], msg['payload'], msg['severity']),
                         ('timer', '42', 3))
        self.assertEqual(msg['fields'], {'name': 'manual', 'rate': 0.25})

    def test_timer_is_thread_local(self):
        import threading
        slow_started = threading.Event()
        results = {}

        def slow():
            with self.client.timer('shared') as timer:
                slow_started.set()
                time.sleep(0.05)
            results['slow'] = timer.result

        def fast():
            slow_started.wait(5)
            time.sleep(0.02)
            # With a shared start time this would restart the slow timer,
            # which would then report about 30 ms.
            with self.client.timer('shared') as timer:
                pass
            results['fast'] = timer.result

        threads = [threading.Thread(target=slow), threading.Thread(
            target=fast)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertGreaterEqual(results['slow'], 50)
        self.assertIsNotNone(results['fast'])


class OldstyleLoggingTest(ClientTestCase):
    def test_each_level_has_its_severity(self):
        calls = [(self.client.debug, SEVERITY.DEBUG),
                 (self.client.info, SEVERITY.INFORMATIONAL),
                 (self.client.warn, SEVERITY.WARNING),
                 (self.client.error, SEVERITY.ERROR),
                 (self.client.critical, SEVERITY.CRITICAL)]
        for call, severity in calls:
            call('text')
            msg = self.last()
            self.assertEqual((msg['type'], msg['severity'], msg['payload']),
                             ('oldstyle', severity, 'text'))

    def test_arguments_are_formatted(self):
        self.client.info('%s has %d', 'cart', 3)
        self.assertEqual(self.last()['payload'], 'cart has 3')
        self.client.warn('%(who)s left', {'who': 'bob'})
        self.assertEqual(self.last()['payload'], 'bob left')

    def test_a_bad_format_is_sent_unformatted_and_counted(self):
        for args in [(1,), ('a', 'b', 'c'), ({'x': 1},)]:
            self.client.info('%s %s' if len(args) == 1 else '%(y)s', *args)
            msg = self.last()
            self.assertEqual(msg['payload'],
                             '%s %s' if len(args) == 1 else '%(y)s')
            self.assertEqual(msg['fields']['args'], repr(
                args[0] if isinstance(args[0], dict) else args))
            self.assertTrue(msg['fields']['format_error'])
        self.assertEqual(self.client.format_errors, 3)

    def test_no_argument_makes_a_log_call_raise(self):
        class BadStr:
            def __str__(self):
                raise RuntimeError('boom in __str__')

        class BadRepr:
            def __repr__(self):
                raise RuntimeError('boom in __repr__')

        calls = [('%c', 10 ** 9), ('%s', BadStr()), ('%s %s', BadRepr()),
                 ('%r', BadRepr()), ('%s %s', BadStr())]
        for fmt, arg in calls:
            self.client.info(fmt, arg)  # raised into the app before
            msg = self.last()
            self.assertEqual(msg['payload'], fmt)
            self.assertTrue(msg['fields']['format_error'])
            self.assertTrue(msg['fields']['args'].startswith('(<')
                            or msg['fields']['args'] == '(1000000000,)')
        self.assertEqual(self.client.format_errors, len(calls))

    def test_exception_with_an_unprintable_message(self):
        class BadStr:
            def __str__(self):
                raise RuntimeError('boom in __str__')

        try:
            raise KeyError('missing')
        except KeyError:
            self.client.exception(BadStr())
        self.assertTrue(self.last()['payload'].endswith("KeyError: 'missing'"))

    def test_exception_appends_the_traceback(self):
        try:
            raise KeyError('missing')
        except KeyError:
            self.client.exception('lookup failed for k')
        msg = self.last()
        self.assertEqual(msg['severity'], SEVERITY.ALERT)
        self.assertEqual(msg['type'], 'oldstyle')
        lines = msg['payload'].split('\n')
        self.assertEqual(lines[0], 'lookup failed for k')
        self.assertEqual(lines[1], 'Traceback (most recent call last):')
        self.assertEqual(lines[-1], "KeyError: 'missing'")

    def test_exc_info_on_other_levels(self):
        try:
            1 / 0
        except ZeroDivisionError:
            info = sys.exc_info()
        self.client.error('math', exc_info=info)
        self.assertTrue(self.last()['payload'].endswith(
            'ZeroDivisionError: division by zero'))

    def test_exception_outside_a_handler_sends_the_text(self):
        self.client.exception('nothing raised')
        self.assertEqual(self.last()['payload'], 'nothing raised')


class ExtensionTest(ClientTestCase):
    def test_add_method_binds_by_metlog_name(self):
        def dummy(self, value):
            self.metlog('dummy', payload=str(value))
        dummy.metlog_name = 'dummy'
        self.client.add_method(dummy)
        self.client.dummy(42)
        self.assertEqual(self.last()['payload'], '42')

    def test_existing_names_are_protected_unless_overridden(self):
        def incr(self, *args, **kwargs):
            self.metlog('overridden')
        incr.metlog_name = 'incr'
        with self.assertRaises(SyntaxError):
            self.client.add_method(incr)
        self.client.add_method(incr, override=True)
        self.client.incr('x')
        self.assertEqual(self.last()['type'], 'overridden')

    def test_override_string_names_the_method(self):
        def fn(self):
            return 'called'
        fn.metlog_name = 'ignored'
        self.client.add_method(fn, override='renamed')
        self.assertEqual(self.client.renamed(), 'called')
        self.assertFalse(hasattr(self.client, 'ignored'))

    def test_only_plain_functions(self):
        with self.assertRaises(TypeError):
            self.client.add_method(len)


class SendMessageTest(ClientTestCase):
    def test_is_active(self):
        self.assertTrue(self.client.is_active)
        self.assertFalse(MetlogClient(None, 'x').is_active)
        self.assertIsInstance(MetlogClient(None, 'x').sender, NoSendSender)

    def test_filters_run_in_order_and_can_drop(self):
        seen = []

        def first(msg):
            seen.append('first')
            msg['fields']['tagged'] = True
            return True

        def second(msg):
            seen.append('second')
            return msg['type'] != 'secret'

        self.client.filters = [first, second]
        self.client.metlog('secret')
        self.client.metlog('public')
        self.assertEqual(seen, ['first', 'second'] * 2)
        self.assertEqual([m['type'] for m in self.messages()], ['public'])
        self.assertTrue(self.last()['fields']['tagged'])

    def test_a_failing_sender_does_not_reach_the_app(self):
        client = MetlogClient(None, 'x')  # NoSendSender raises
        with mock.patch('sys.stderr') as stderr:
            client.incr('x')
        self.assertIn('NotImplementedError', stderr.write.call_args[0][0])
        self.assertEqual(client.failed, 1)

    def test_a_failing_filter_does_not_reach_the_app(self):
        # metlog-py let a filter's error through; our clients (as the Node
        # client) never raise: the message is counted as failed, not sent.
        def broken(msg):
            raise KeyError('no such key')

        self.client.filters = [broken]
        with mock.patch('sys.stderr') as stderr:
            self.client.incr('lost')
            self.client.info('lost too')
        self.assertIn('KeyError', stderr.write.call_args[0][0])
        self.assertEqual(self.client.failed, 2)
        self.assertEqual(list(self.sender.msgs), [])
        self.client.filters = []
        self.client.incr('sent')
        self.assertEqual(len(self.sender.msgs), 1)


class FilterProvidersTest(unittest.TestCase):
    def msg(self, type_='log', severity=6):
        return {'type': type_, 'severity': severity}

    def test_severity_max(self):
        keep = filters.severity_max_provider(severity=4)
        self.assertTrue(keep(self.msg(severity=4)))
        self.assertTrue(keep(self.msg(severity=0)))
        self.assertFalse(keep(self.msg(severity=5)))

    def test_type_lists(self):
        deny = filters.type_blacklist_provider(types=['timer', 'counter'])
        allow = filters.type_whitelist_provider(types=['timer'])
        self.assertFalse(deny(self.msg('timer')))
        self.assertTrue(deny(self.msg('log')))
        self.assertTrue(allow(self.msg('timer')))
        self.assertFalse(allow(self.msg('counter')))
        self.assertFalse(filters.type_whitelist_provider('timer')(
            self.msg('timer ')))

    def test_type_severity_max(self):
        keep = filters.type_severity_max_provider(
            types={'oldstyle': {'severity': 3}})
        self.assertFalse(keep(self.msg('oldstyle', 4)))
        self.assertTrue(keep(self.msg('oldstyle', 3)))
        self.assertTrue(keep(self.msg('timer', 7)))

    def test_filters_on_a_client(self):
        sender = DebugCaptureSender()
        client = MetlogClient(sender, 'app', filters=[
            filters.severity_max_provider(severity=4)])
        client.info('dropped')
        client.warn('kept')
        self.assertEqual([json.loads(m)['payload'] for m in sender.msgs],
                         ['kept'])


class HolderTest(unittest.TestCase):
    def setUp(self):
        self.holder = MetlogClientHolder()

    def test_get_client_creates_once_and_first_is_default(self):
        first = self.holder.get_client('first')
        self.assertIs(self.holder.get_client('first'), first)
        self.assertEqual(first.logger, 'first')
        self.assertFalse(first.is_active)
        self.holder.get_client('second')
        self.assertIs(self.holder.default_client, first)
        self.holder.set_default_client_name('second')
        self.assertEqual(self.holder.default_client.logger, 'second')

    def test_set_and_delete(self):
        client = MetlogClient(DebugCaptureSender(), 'mine')
        self.holder.set_client('mine', client)
        self.assertIs(self.holder.default_client, client)
        self.holder.delete_client('mine')
        self.assertIsNone(self.holder.default_client)
        self.assertIsNot(self.holder.get_client('mine'), client)

    def test_module_get_client_applies_config(self):
        name = 'holder_test_app'
        try:
            client = get_client(name, {
                'sender_class': 'metlog.senders.DebugCaptureSender'})
            self.assertIs(client, CLIENT_HOLDER.get_client(name))
            self.assertTrue(client.is_active)
            client.incr('x')
            self.assertEqual(json.loads(client.sender.msgs[-1])['logger'],
                             name)
            with self.assertRaises(ValueError):
                get_client(name, {'logger': 'other',
                                  'sender_class':
                                  'metlog.senders.DebugCaptureSender'})
        finally:
            CLIENT_HOLDER.delete_client(name)


class LoggingHookTest(ClientTestCase):
    def test_stdlib_records_become_oldstyle_messages(self):
        name = 'metlog.tests.hooked'
        hook_logger(name, self.client)
        hook_logger(name, self.client)  # a second hook is a no-op
        logger = logging.getLogger(name)
        self.addCleanup(lambda: [logger.removeHandler(h)
                                 for h in list(logger.handlers)])
        self.assertEqual(sum(isinstance(h, MetlogHandler)
                             for h in logger.handlers), 1)
        logger.setLevel(logging.DEBUG)
        logger.debug('d')
        logger.info('i %d', 1)
        logger.warning('w')
        logger.error('e')
        logger.critical('c')
        self.assertEqual(
            [(m['type'], m['severity'], m['payload'])
             for m in self.messages()],
            [('oldstyle', 7, 'd'), ('oldstyle', 6, 'i 1'),
             ('oldstyle', 4, 'w'), ('oldstyle', 3, 'e'),
             ('oldstyle', 2, 'c')])


class ForkTest(ClientTestCase):
    def test_child_stamps_its_own_pid(self):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            self.client.incr('in_child')
            os.write(write_end, self.sender.msgs[-1].encode())
            os._exit(0)
        os.close(write_end)
        os.waitpid(pid, 0)
        with os.fdopen(read_end) as pipe:
            child_msg = json.loads(pipe.read())
        self.assertEqual(child_msg['metlog_pid'], pid)
        self.client.incr('in_parent')
        self.assertEqual(self.last()['metlog_pid'], os.getpid())


if __name__ == '__main__':
    unittest.main()
