"""Message dicts to metlog.v1.Message, Batch and signed Packet."""

import hashlib
import hmac
import tracemalloc
import unittest
import uuid
from datetime import datetime, timedelta, timezone

from metlog import metlog_pb2
from metlog.senders.envelope import (BatchEncoder, PacketSigner, fill_message,
                                     make_packet, signer_from_options,
                                     timestamp_ns)
from test_support import decode_packet, field_values

F = metlog_pb2.Field


def message(**overrides):
    msg = {'type': 'counter', 'timestamp': '2024-03-01T12:30:45.123456',
           'logger': 'shop', 'severity': 6, 'payload': '3',
           'fields': {'name': 'orders', 'rate': 1}, 'env_version': '0.8',
           'metlog_pid': 4321, 'metlog_hostname': 'web1'}
    msg.update(overrides)
    return msg


def encoded(msg):
    out = metlog_pb2.Message()
    fill_message(msg, out)
    return out


class FillMessageTest(unittest.TestCase):
    def test_each_key_maps_to_its_envelope_field(self):
        out = encoded(message())
        expected_ns = int(datetime(2024, 3, 1, 12, 30, 45, 123456,
                                   tzinfo=timezone.utc).timestamp()) \
            * 1000000000 + 123456000
        self.assertEqual(out.timestamp, expected_ns)
        self.assertEqual((out.type, out.logger, out.severity, out.payload,
                          out.env_version, out.pid, out.hostname),
                         ('counter', 'shop', 6, '3', '0.8', 4321, 'web1'))
        self.assertEqual(len(out.uuid), 16)
        self.assertEqual(uuid.UUID(bytes=out.uuid).version, 4)
        self.assertEqual(field_values(out), {'name': ['orders'],
                                             'rate': [1.0]})
        self.assertEqual(out.fields[1].value_type, F.DOUBLE)

    def test_every_message_gets_its_own_uuid(self):
        self.assertNotEqual(encoded(message()).uuid, encoded(message()).uuid)

    def test_field_types(self):
        out = encoded(message(fields={
            'text': 'x', 'raw': b'\x00\x01', 'count': 7, 'ratio': 0.5,
            'flag': True, 'many': [1, 2, 3], 'mixed': [1, 'a'],
            'floats': [1, 2.5], 'huge': 1 << 70, 'nested': {'a': 1},
            'nothing': None, 'empty': []}))
        types = {f.name: f.value_type for f in out.fields}
        self.assertEqual(types, {
            'text': F.STRING, 'raw': F.BYTES, 'count': F.INTEGER,
            'ratio': F.DOUBLE, 'flag': F.BOOL, 'many': F.INTEGER,
            'mixed': F.STRING, 'floats': F.DOUBLE, 'huge': F.STRING,
            'nested': F.STRING, 'empty': F.STRING})
        values = field_values(out)
        self.assertEqual(values['raw'], [b'\x00\x01'])
        self.assertEqual(values['many'], [1, 2, 3])
        self.assertEqual(values['mixed'], ['1', 'a'])
        self.assertEqual(values['floats'], [1.0, 2.5])
        self.assertEqual(values['huge'], [str(1 << 70)])
        self.assertEqual(values['nested'], ['{"a": 1}'])
        self.assertEqual(values['flag'], [True])
        self.assertEqual(values['empty'], [])

    def test_non_string_payload_and_missing_keys(self):
        out = encoded({'type': 'custom', 'payload': 12})
        self.assertEqual(out.payload, '12')
        self.assertFalse(out.HasField('timestamp'))
        self.assertFalse(out.HasField('severity'))
        self.assertFalse(out.HasField('pid'))

    def test_timestamps(self):
        epoch = datetime(1970, 1, 1)
        self.assertEqual(timestamp_ns('1970-01-01T00:00:01'), 1000000000)
        self.assertEqual(timestamp_ns(epoch + timedelta(microseconds=7)),
                         7000)
        self.assertEqual(timestamp_ns(
            datetime(1970, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))), 0)
        self.assertEqual(timestamp_ns(8231), 8231000000000)
        self.assertEqual(timestamp_ns(1.5), 1500000000)
        self.assertIsNone(timestamp_ns('yesterday'))
        self.assertIsNone(timestamp_ns(True))
        self.assertIsNone(timestamp_ns(None))
        # Numbers no int64 of nanoseconds holds: the router stamps instead
        # of the message being lost.
        self.assertIsNone(timestamp_ns(float('nan')))
        self.assertIsNone(timestamp_ns(float('inf')))
        self.assertIsNone(timestamp_ns(1e30))


def random_message(rng):
    """A message dict with a random mix of the shapes MetlogClient and
    applications produce."""
    values = ['text', 'ünïcode ✓', '', b'\x00raw', 0, 1, -5, 1 << 40,
              1 << 70, 0.5, 1.0, True, False, [1, 2], ['a', 1], {'k': 'v'},
              None, [], [0.5, 2]]
    timestamps = ['2024-03-01T12:30:45.123456', '2024-03-01T12:30:45',
                  '2024-03-01T12:30:46.000001', '2024-03-01 12:30:45.5',
                  'not a time', 0, 1.25, None, datetime(2020, 1, 1),
                  '2024-03-01T12:30:45.12345x']
    payloads = ['1', '', 'ünïcode ✓ payload', 'x' * 300, 7, None]
    return {
        'type': rng.choice(['counter', 'timer', 'oldstyle', 'custom']),
        'timestamp': rng.choice(timestamps),
        'logger': rng.choice(['shop', 'api', '']),
        'severity': rng.choice([0, 3, 6, 7, None]),
        'payload': rng.choice(payloads),
        'fields': {rng.choice(['name', 'rate', 'a', 'b', 'c']):
                   rng.choice(values) for _ in range(rng.randint(0, 4))},
        'env_version': '0.8',
        'metlog_pid': rng.choice([1, 4321, None]),
        'metlog_hostname': rng.choice(['web1', 'h']),
    }


class EncodersAgreeTest(unittest.TestCase):
    """BatchEncoder (cached pieces) means what fill_message (the generated
    code, field by field) means, for every shape of message."""

    def test_differential(self):
        import random
        rng = random.Random(7)
        encoder = BatchEncoder()
        for _ in range(5000):
            msg = random_message(rng)
            _, [fast] = decode_packet(make_packet(encoder.encode(msg)))
            reference = encoded(msg)
            self.assertEqual(uuid.UUID(bytes=fast.uuid).version, 4)
            fast.ClearField('uuid')
            reference.ClearField('uuid')
            self.assertEqual(fast, reference, msg)

    def test_equal_values_of_different_types_stay_distinct(self):
        encoder = BatchEncoder()
        pieces = [encoder.encode(message(fields={'v': v}))
                  for v in (1, True, 1.0, '1')]
        _, messages = decode_packet(make_packet(b''.join(pieces)))
        self.assertEqual([m.fields[0].value_type for m in messages],
                         [F.INTEGER, F.BOOL, F.DOUBLE, F.STRING])


class BatchAndPacketTest(unittest.TestCase):
    def test_joined_pieces_are_one_batch(self):
        encoder = BatchEncoder()
        pieces = [encoder.encode(message(payload=str(i))) for i in range(5)]
        packet, messages = decode_packet(make_packet(b''.join(pieces)))
        self.assertFalse(packet.HasField('signature'))
        self.assertEqual([m.payload for m in messages],
                         ['0', '1', '2', '3', '4'])

    def test_signature_is_hmac_sha256_of_the_batch_bytes(self):
        batch = BatchEncoder().encode(message())
        signer = PacketSigner('shop', 3, 'secret key')
        packet, messages = decode_packet(make_packet(batch, signer))
        self.assertEqual(packet.batch, batch)
        self.assertEqual(packet.signature.signer, 'shop')
        self.assertEqual(packet.signature.key_version, 3)
        self.assertEqual(packet.signature.hmac_sha256, hmac.new(
            b'secret key', batch, hashlib.sha256).digest())
        self.assertEqual(len(messages), 1)

    def test_signer_options(self):
        self.assertIsNone(signer_from_options(None, None, 1))
        with self.assertRaises(ValueError):
            signer_from_options('shop', None, 1)
        # Digits-only ini values arrive as ints.
        self.assertEqual(signer_from_options('shop', 1234, '2').key, b'1234')


class EncoderMemoryTest(unittest.TestCase):
    """What the encoder keeps between messages must not grow with them, or
    the sender's memory bound (max_queue_bytes) would not be one."""

    def held_after_encoding(self, make_message, count):
        """Bytes still allocated after `count` messages were encoded and
        dropped, beyond what the encoder held after the first."""
        encoder = BatchEncoder()
        encoder.encode(make_message(0))
        tracemalloc.start()
        self.addCleanup(tracemalloc.stop)
        before = tracemalloc.get_traced_memory()[0]
        for i in range(1, count):
            encoder.encode(make_message(i))
        return tracemalloc.get_traced_memory()[0] - before

    def test_large_field_values_that_differ_are_not_kept(self):
        # A query, URL or traceback: 30 KB, different every time.
        held = self.held_after_encoding(
            lambda i: message(fields={'query': ('%08d' % i) * 3750}), 2000)
        self.assertLess(held, 4 << 20)  # 60 MB were offered

    def test_large_loggers_that_differ_are_not_kept(self):
        held = self.held_after_encoding(
            lambda i: message(logger=('%08d' % i) * 3750), 2000)
        self.assertLess(held, 4 << 20)

    def test_small_values_that_differ_are_kept_within_a_bound(self):
        held = self.held_after_encoding(
            lambda i: message(fields={'id': 'request-%032d' % i}), 30000)
        self.assertLess(held, 6 << 20)


if __name__ == '__main__':
    unittest.main()
