"""metlog.config: ini text, streams and dicts into configured clients."""

import io
import json
import os
import threading
import time
import unittest
from unittest import mock

from metlog.client import MetlogClient
from metlog.config import (client_from_dict_config, client_from_stream_config,
                           client_from_text_config, dict_from_stream_config)
from metlog.exceptions import EnvironmentNotFoundError
from metlog.holder import CLIENT_HOLDER, get_client
from metlog.senders import DebugCaptureSender, ZmqPubSender
from test_support import PullRouter


def plugin_provider(config):
    """A plugin provider as config files name them: returns the method."""
    def show_config(self, *args):
        self.metlog('plugin', payload=json.dumps(
            {'config': config, 'args': list(args)}, sort_keys=True))
    show_config.metlog_name = 'show_config'
    return show_config


class IniTest(unittest.TestCase):
    def setUp(self):
        self.saved_global = dict(CLIENT_HOLDER.global_config)
        self.addCleanup(self.restore_global)

    def restore_global(self):
        CLIENT_HOLDER.global_config = self.saved_global

    def test_main_section(self):
        client = client_from_text_config('''
            [metlog]
            logger = myapp
            severity = 4
            disabled_timers = foo
                              bar
            sender_class = metlog.senders.DebugCaptureSender
            sender_extra = 12
            sender_flag = yes
            sender_text = hello
            ''', 'metlog')
        self.assertIsInstance(client, MetlogClient)
        self.assertEqual(client.logger, 'myapp')
        self.assertEqual(client.severity, 4)
        self.assertEqual(client._disabled_timers, {'foo', 'bar'})
        self.assertIsInstance(client.sender, DebugCaptureSender)
        self.assertEqual(client.sender.extra, 12)
        self.assertIs(client.sender.flag, True)
        self.assertEqual(client.sender.text, 'hello')
        with client.timer('foo'):
            pass
        client.incr('n')
        msg = json.loads(client.sender.msgs[-1])
        self.assertEqual((msg['type'], msg['logger'], msg['severity']),
                         ('counter', 'myapp', 4))
        self.assertEqual(len(client.sender.msgs), 1)

    def test_environment_substitution(self):
        with mock.patch.dict(os.environ, {'METLOG_TEST_LOGGER': 'from_env',
                                          'METLOG_TEST_PORT': '5599'}):
            client = client_from_text_config('''
                [metlog]
                logger = ${METLOG_TEST_LOGGER}
                sender_class = metlog.senders.DebugCaptureSender
                sender_port = ${METLOG_TEST_PORT}
                ''', 'metlog')
        self.assertEqual(client.logger, 'from_env')
        self.assertEqual(client.sender.port, '5599')

    def test_unset_environment_variable_raises(self):
        os.environ.pop('METLOG_TEST_UNSET', None)
        with self.assertRaises(EnvironmentNotFoundError) as raised:
            client_from_text_config('''
                [metlog]
                logger = ${METLOG_TEST_UNSET}
                sender_class = metlog.senders.DebugCaptureSender
                ''', 'metlog')
        self.assertEqual(raised.exception.varname, 'METLOG_TEST_UNSET')
        self.assertIn('METLOG_TEST_UNSET', str(raised.exception))

    def test_filter_sections_apply_in_order(self):
        client = client_from_text_config('''
            [metlog]
            sender_class = metlog.senders.DebugCaptureSender

            [metlog_filter_sev_max]
            provider = metlog.filters.severity_max_provider
            severity = 4

            [metlog_filter_type_whitelist]
            provider = metlog.filters.type_whitelist_provider
            types = timer
                    oldstyle
            ''', 'metlog')
        self.assertEqual(len(client.filters), 2)
        client.warn('kept')
        client.info('too verbose')
        client.incr('not whitelisted')
        client.timer_send('kept timer', 5, severity=4)
        self.assertEqual([json.loads(m)['type'] for m in client.sender.msgs],
                         ['oldstyle', 'timer'])

    def test_plugin_sections_bind_methods(self):
        client = client_from_text_config('''
            [metlog]
            sender_class = metlog.senders.DebugCaptureSender

            [metlog_plugin_dummy]
            provider = config_test:plugin_provider
            port = 8080
            host = localhost
            ''', 'metlog')
        client.show_config('a', 1)
        msg = json.loads(client.sender.msgs[-1])
        self.assertEqual(json.loads(msg['payload']), {
            'config': {'port': 8080, 'host': 'localhost'}, 'args': ['a', 1]})

    def test_global_options_reach_the_holder(self):
        client_from_text_config('''
            [metlog]
            sender_class = metlog.senders.DebugCaptureSender
            global_disabled_decorators = incr_count
                                         timeit
            ''', 'metlog')
        self.assertEqual(CLIENT_HOLDER.global_config['disabled_decorators'],
                         ['incr_count', 'timeit'])

    def test_stream_and_dict_forms_agree(self):
        text = ('[app]\nlogger = a\nseverity = 3\n'
                'sender_class = metlog.senders.DebugCaptureSender\n'
                '[app_filter_x]\nprovider = metlog.filters.'
                'type_blacklist_provider\ntypes = timer\n')
        self.assertEqual(dict_from_stream_config(io.StringIO(text), 'app'), {
            'logger': 'a', 'severity': 3,
            'sender_class': 'metlog.senders.DebugCaptureSender',
            'sender': {'class': 'metlog.senders.DebugCaptureSender'},
            'filters': [('metlog.filters.type_blacklist_provider',
                         {'types': 'timer'})],
            'plugins': {}})
        client = client_from_stream_config(io.StringIO(text), 'app')
        self.assertEqual((client.logger, client.severity), ('a', 3))
        client.timer_send('t', 1)
        client.incr('c')
        self.assertEqual([json.loads(m)['type'] for m in client.sender.msgs],
                         ['counter'])

    def test_reconfigures_an_existing_client(self):
        client = MetlogClient(None, 'before')
        same = client_from_text_config('''
            [metlog]
            logger = after
            sender_class = metlog.senders.DebugCaptureSender
            ''', 'metlog', client=client)
        self.assertIs(same, client)
        self.assertEqual(client.logger, 'after')
        self.assertTrue(client.is_active)


class DictTest(unittest.TestCase):
    def test_nested_sender_and_args(self):
        config = {'logger': 'app',
                  'sender': {'class': 'metlog.senders.dev.StreamSender',
                             'args': [io.StringIO()]},
                  'filters': [('metlog.filters.severity_max_provider',
                               {'severity': 3})]}
        client = client_from_dict_config(config)
        client.error('shown')
        client.warn('hidden')
        output = client.sender.stream.getvalue()
        self.assertIn('"shown"', output)
        self.assertNotIn('"hidden"', output)
        # What the client was made from, kept for debugging.
        self.assertEqual(client._config['filters'], config['filters'])
        self.assertIsNot(client._config, config)

    def test_zmq_sender_by_name_or_by_default(self):
        named = client_from_dict_config({
            'sender_class': 'metlog.senders.zmq.ZmqPubSender',
            'sender_bindstrs': 'tcp://127.0.0.1:5999',
            'sender_queue_length': 5000})
        self.assertIsInstance(named.sender, ZmqPubSender)
        self.assertEqual(named.sender.bindstrs, ['tcp://127.0.0.1:5999'])
        self.assertEqual(named.sender.queue_length, 5000)
        with mock.patch.dict(os.environ, {'METLOG_ENDPOINT': ''}):
            default = client_from_dict_config({'logger': 'app'})
        self.assertIsInstance(default.sender, ZmqPubSender)
        self.assertEqual(default.sender.bindstrs, ['tcp://127.0.0.1:5565'])

    def test_unknown_sender_class_is_an_error(self):
        with self.assertRaises(ImportError):
            client_from_dict_config({'sender_class': 'metlog.senders.Nope'})


class ReconfigureTest(unittest.TestCase):
    def test_reconfiguring_closes_the_sender_the_config_made(self):
        config = {'sender': {'class': 'metlog.senders.ZmqPubSender',
                             'bindstrs': 'tcp://127.0.0.1:5999'}}
        name = 'reconfigured'
        self.addCleanup(CLIENT_HOLDER.delete_client, name)

        def sender_threads():
            return [t for t in threading.enumerate()
                    if t.name == 'metlog-sender']

        before = len(sender_threads())
        senders = []
        for _ in range(20):
            client = get_client(name, config)
            client.incr('x')
            senders.append(client.sender)
        self.addCleanup(senders[-1].close, 0)
        self.assertEqual(len(set(map(id, senders))), 20)
        deadline = time.monotonic() + 30
        while (len(sender_threads()) > before + 1
               and time.monotonic() < deadline):
            time.sleep(0.05)
        self.assertEqual(len(sender_threads()), before + 1)
        # The old ones are closed: what reaches them is dropped, counted.
        unsent = senders[0].stats()['dropped_unsent']
        senders[0].send_message({'type': 'late', 'payload': '',
                                 'fields': {}})
        self.assertEqual(senders[0].stats()['dropped_unsent'], unsent + 1)

    def test_a_sender_the_application_made_stays_open(self):
        router = PullRouter()
        self.addCleanup(router.close)
        sender = ZmqPubSender(router.endpoint)
        self.addCleanup(sender.close)
        client = MetlogClient(sender, 'mine')
        client_from_dict_config(
            {'sender_class': 'metlog.senders.DebugCaptureSender'}, client)
        MetlogClient(sender, 'mine').incr('still')
        self.assertTrue(sender.flush(5))
        self.assertEqual(sender.stats()['sent'], 1)
        self.assertEqual(len(router.receive(1)), 1)


if __name__ == '__main__':
    unittest.main()
