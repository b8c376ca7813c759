"""UdpSender against real UDP sockets: one Packet per datagram, datagrams
within the size bound, every destination served, drops counted."""

import hashlib
import hmac
import socket
import threading
import time
import unittest
from unittest import mock

from metlog.client import MetlogClient
from metlog.senders import UdpSender
from test_support import UdpRouter, field_values


class UdpSenderTest(unittest.TestCase):
    def setUp(self):
        self.router = UdpRouter()
        self.addCleanup(self.router.close)

    def make_client(self, **options):
        sender = UdpSender('127.0.0.1', self.router.port, **options)
        self.addCleanup(sender.close)
        return MetlogClient(sender, 'udptest'), sender

    def test_messages_arrive_one_packet_per_datagram(self):
        client, sender = self.make_client()
        client.incr('hits', 2)
        client.error('disk %s full', '/var')
        self.assertTrue(sender.flush(5))
        datagrams = self.router.receive(2)
        messages = [m for _, _, batch in datagrams for m in batch]
        self.assertEqual([m.type for m in messages], ['counter', 'oldstyle'])
        self.assertEqual(field_values(messages[0]), {'name': ['hits'],
                                                     'rate': [1.0]})
        self.assertEqual((messages[1].payload, messages[1].severity),
                         ('disk /var full', 3))
        self.assertEqual(messages[0].logger, 'udptest')
        self.assertEqual(sender.stats()['sent'], 2)

    def test_datagrams_stay_within_the_bound(self):
        client, sender = self.make_client(max_packet_bytes=1200)
        for i in range(100):
            client.info('message %03d %s' % (i, 'z' * 100))
        self.assertTrue(sender.flush(5))
        datagrams = self.router.receive(100)
        self.assertGreater(len(datagrams), 10)
        self.assertTrue(all(size <= 1200 for size, _, _ in datagrams))
        payloads = [m.payload[:11] for _, _, b in datagrams for m in b]
        self.assertEqual(payloads, ['message %03d' % i for i in range(100)])
        self.assertEqual(sender.stats()['sent'], 100)

    def test_message_too_big_for_a_datagram_is_dropped(self):
        client, sender = self.make_client()
        client.info('w' * 70000)
        client.info('fits')
        self.assertTrue(sender.flush(5))
        messages = [m for _, _, b in self.router.receive(1) for m in b]
        self.assertEqual([m.payload for m in messages], ['fits'])
        self.assertEqual(sender.dropped_oversized, 1)

    def test_every_host_port_pair_gets_each_message(self):
        second = UdpRouter()
        self.addCleanup(second.close)
        sender = UdpSender(['127.0.0.1', '127.0.0.1'],
                           [self.router.port, second.port])
        self.addCleanup(sender.close)
        self.assertEqual(sender.destinations,
                         [('127.0.0.1', self.router.port),
                          ('127.0.0.1', second.port)])
        MetlogClient(sender, 'both').incr('twice')
        self.assertTrue(sender.flush(5))
        for router in (self.router, second):
            [(_, _, [message])] = router.receive(1)
            self.assertEqual(message.type, 'counter')

    def test_datagrams_are_signed(self):
        client, sender = self.make_client(signer='edge', key=b'k',
                                          key_version=7)
        client.incr('signed')
        self.assertTrue(sender.flush(5))
        [(_, packet, [message])] = self.router.receive(1)
        self.assertEqual((packet.signature.signer,
                          packet.signature.key_version), ('edge', 7))
        self.assertEqual(packet.signature.hmac_sha256, hmac.new(
            b'k', packet.batch, hashlib.sha256).digest())
        self.assertEqual(message.type, 'counter')

    def test_extra_hosts_reuse_the_last_port(self):
        sender = UdpSender(['a', 'b', 'c'], 7000)
        self.assertEqual(sender.destinations,
                         [('a', 7000), ('b', 7000), ('c', 7000)])



class BadAddressTest(unittest.TestCase):
    """As the C++ client and ZmqPubSender: a host or port that cannot work
    never raises; every message is dropped and counted as
    dropped_no_sender, and status() says why."""

    def test_bad_addresses_drop_and_count_and_say_why(self):
        for host, port in [([], 5565), ('127.0.0.1', []),
                           ('127.0.0.1', 'http'), ('127.0.0.1', 0),
                           ('127.0.0.1', 70000), (None, 5565)]:
            with self.subTest(host=host, port=port):
                sender = UdpSender(host, port)
                self.addCleanup(sender.close)
                self.assertIn('UdpSender', sender.status())
                MetlogClient(sender, 'nowhere').incr('lost')
                self.assertTrue(sender.flush(1))
                stats = sender.stats()
                self.assertEqual(stats['dropped_no_sender'], 1)
                self.assertEqual(stats['sent'] + sender.dropped, 1)

    def test_a_good_address_has_no_status(self):
        sender = UdpSender('127.0.0.1', '5565')
        self.addCleanup(sender.close)
        self.assertIsNone(sender.status())


class ResolutionTest(unittest.TestCase):
    """A host that does not resolve costs its own datagrams only, and is
    looked up again later."""

    def setUp(self):
        self.router = UdpRouter()
        self.addCleanup(self.router.close)

    def test_an_unresolvable_host_does_not_stop_the_others(self):
        sender = UdpSender(['no-such-host.invalid', '127.0.0.1'],
                           self.router.port)
        self.addCleanup(sender.close)
        MetlogClient(sender, 'udptest').incr('hits')
        self.assertTrue(sender.flush(30))
        [(_, _, [message])] = self.router.receive(1)
        self.assertEqual(field_values(message)['name'], ['hits'])
        self.assertEqual(sender.stats()['sent'], 1)
        self.assertIn('no-such-host.invalid', sender.status())

    def test_messages_a_destination_misses_are_counted(self):
        sender = UdpSender(['127.0.0.1', 'no-such-host.invalid'],
                           self.router.port)
        self.addCleanup(sender.close)
        client = MetlogClient(sender, 'udptest')
        for _ in range(10):
            client.incr('hits')
        self.assertTrue(sender.flush(30))
        received = [m for _, _, batch in self.router.receive(1)
                    for m in batch]
        self.assertTrue(received)
        stats = sender.stats()
        self.assertEqual(stats['sent'], 10, stats)
        self.assertEqual(stats['undelivered'], 10, stats)
        self.assertEqual(sender.dropped, 0)
        port = self.router.port
        self.assertEqual(sender.undelivered_by_destination(),
                         {'127.0.0.1:%d' % port: 0,
                          'no-such-host.invalid:%d' % port: 10})

    def test_a_lookup_that_hangs_does_not_hold_up_the_others(self):
        # A DNS server that does not answer: the lookup never returns
        # while the test runs.
        answer = threading.Event()
        self.addCleanup(answer.set)
        real_getaddrinfo = socket.getaddrinfo

        def getaddrinfo(host, *args, **kwargs):
            if host == 'hangs.test':
                answer.wait(60)
                raise socket.gaierror(socket.EAI_AGAIN, 'timed out')
            return real_getaddrinfo(host, *args, **kwargs)

        patcher = mock.patch('socket.getaddrinfo', getaddrinfo)
        patcher.start()
        self.addCleanup(patcher.stop)
        sender = UdpSender(['hangs.test', '127.0.0.1'], self.router.port)
        self.addCleanup(sender.close)
        MetlogClient(sender, 'udptest').incr('hits')
        self.assertTrue(sender.flush(20))
        [(_, _, [message])] = self.router.receive(1)
        self.assertEqual(field_values(message)['name'], ['hits'])
        self.assertEqual(sender.stats()['undelivered'], 1)
        self.assertIn('hangs.test', sender.status())

    def test_a_host_that_resolves_later_is_reached(self):
        # A DNS answer missing while the service starts: the resolver is
        # the one stand-in here (no DNS server to take down).
        resolves = threading.Event()
        real_getaddrinfo = socket.getaddrinfo

        def getaddrinfo(host, *args, **kwargs):
            if host == 'late.test':
                if not resolves.is_set():
                    raise socket.gaierror(socket.EAI_AGAIN, 'not yet')
                host = '127.0.0.1'
            return real_getaddrinfo(host, *args, **kwargs)

        patcher = mock.patch('socket.getaddrinfo', getaddrinfo)
        patcher.start()
        self.addCleanup(patcher.stop)
        sender = UdpSender('late.test', self.router.port)
        self.addCleanup(sender.close)
        client = MetlogClient(sender, 'udptest')
        client.incr('early')
        self.assertTrue(sender.flush(30))
        self.assertEqual(sender.stats()['dropped_unsent'], 1)
        self.assertIn('late.test', sender.status())
        resolves.set()
        deadline = time.monotonic() + 30
        received = []
        while not received and time.monotonic() < deadline:
            client.incr('late')
            sender.flush(30)
            received = self.router.receive(1, timeout=0.2)
        self.assertTrue(received)
        self.assertEqual(field_values(received[0][2][0])['name'], ['late'])
        self.assertIsNone(sender.status())


if __name__ == '__main__':
    unittest.main()
