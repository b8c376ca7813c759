"""Turns metlog-py message dicts into the Metlog wire envelope
(metlog.v1.Message, Batch, Packet; see proto/metlog.proto).

fill_message() is the reference: it sets every field through the generated
code. BatchEncoder, which the senders use, gives the same bytes' meaning at a
tenth of the cost: what repeats from message to message (logger, type,
severity, host, pid, and each field's name and value) is serialized once by
the generated code and cached, and only the uuid, timestamp and payload are
framed per message. Protobuf's wire format allows this: concatenated
serializations of a message parse as their merge, repeated fields appending.
envelope_test.py checks both encoders agree.

Key to field: type, logger, severity, payload and env_version map to the
fields of the same name; timestamp (an isoformat string as the client makes
it, a datetime, or seconds since the epoch) to nanoseconds; metlog_pid and
metlog_hostname to pid and hostname; each entry of `fields` to a typed Field.
"""

import hashlib
import hmac
import json
import random
import uuid
from datetime import datetime, timezone

try:
    from metlog import metlog_pb2
except ImportError as error:  # pragma: no cover - a setup problem
    raise ImportError(
        'metlog.metlog_pb2 is missing: build with Bazel, or run '
        'client/python/generate_proto.sh once in a checkout') from error

# The router's defaults (LimitsConfig in proto/config.proto): it rejects a
# larger serialized Message, so the senders drop and count it instead.
MAX_MESSAGE_BYTES = 65536
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
# Seconds since the epoch whose nanoseconds fit an int64 (year 2262).
_EPOCH_SECONDS_LIMIT = _INT64_MAX // 1000000000
_Field = metlog_pb2.Field


def timestamp_ns(value):
    """Nanoseconds since the epoch for a message's timestamp, or None when
    the value cannot be read (the router then stamps its arrival time).
    Naive times are UTC, as metlog-py's utcnow() makes them."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        delta = value - datetime(1970, 1, 1, tzinfo=timezone.utc)
        return ((delta.days * 86400 + delta.seconds) * 1000000
                + delta.microseconds) * 1000
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if not -_EPOCH_SECONDS_LIMIT < value < _EPOCH_SECONDS_LIMIT:
            return None  # NaN, infinities, or past int64 nanoseconds
        return int(value * 1000000000)
    return None


class MessageTooLarge(ValueError):
    """A message whose envelope the router would reject for its size."""


def well_formed(text):
    """`text` with lone surrogates (os.listdir() and sys.argv keep
    undecodable bytes as such) replaced by U+FFFD: UTF-8 cannot carry them,
    and a log line is worth more with a replacement character than lost."""
    try:
        text.encode('utf-8')
        return text
    except UnicodeEncodeError:
        return text.encode('utf-16', 'surrogatepass').decode(
            'utf-16', 'replace')


def _text(value):
    return well_formed(value if isinstance(value, str) else str(value))


def _check_severity(severity):
    # The router rejects a message whose severity is not RFC 5424's 0..7.
    if (not isinstance(severity, int) or isinstance(severity, bool)
            or not 0 <= severity <= 7):
        raise ValueError('severity %r is not in 0..7' % (severity,))


def _is_number(value, kinds):
    return isinstance(value, kinds) and not isinstance(value, bool)


def _add_values(field, values):
    """Types the field by its values and adds them: all bools BOOL, all
    int64 ints INTEGER, all numbers (not only ints) DOUBLE, all bytes BYTES;
    anything else, ints beyond int64 included, as text (JSON for non-str)."""
    if all(isinstance(v, bool) for v in values):
        field.value_type = _Field.BOOL
        field.value_bool.extend(values)
    elif all(_is_number(v, int) for v in values):
        if all(_INT64_MIN <= v <= _INT64_MAX for v in values):
            field.value_type = _Field.INTEGER
            field.value_integer.extend(values)
        else:
            field.value_type = _Field.STRING
            field.value_string.extend(str(v) for v in values)
    elif all(_is_number(v, (int, float)) for v in values):
        field.value_type = _Field.DOUBLE
        field.value_double.extend(float(v) for v in values)
    elif all(isinstance(v, bytes) for v in values):
        field.value_type = _Field.BYTES
        field.value_bytes.extend(values)
    else:
        field.value_type = _Field.STRING
        field.value_string.extend(
            well_formed(v) if isinstance(v, str) else json.dumps(v, default=str)
            for v in values)


def fill_message(msg, out, with_uuid=True):
    """Fills `out` (a cleared metlog_pb2.Message) from the dict `msg`; the
    keys it lacks stay unset. A random uuid is set unless `with_uuid` is
    False. Raises ValueError for what the router would reject: a severity
    outside 0..7, a field without a name."""
    if with_uuid:
        out.uuid = uuid.uuid4().bytes
    ns = timestamp_ns(msg.get('timestamp'))
    if ns is not None:
        out.timestamp = ns
    for key in ('type', 'logger', 'env_version'):
        value = msg.get(key)
        if value is not None:
            setattr(out, key, _text(value))
    payload = msg.get('payload')
    if payload is not None:
        out.payload = _text(payload)
    severity = msg.get('severity')
    if severity is not None:
        _check_severity(severity)
        out.severity = severity
    pid = msg.get('metlog_pid')
    if isinstance(pid, int):
        out.pid = pid
    hostname = msg.get('metlog_hostname')
    if hostname is not None:
        out.hostname = _text(hostname)
    fields = msg.get('fields') or {}
    for name, value in fields.items():
        if value is None:
            continue
        name = _text(name)
        if not name:
            raise ValueError('a field needs a name')
        field = out.fields.add()
        field.name = name
        if name == 'rate' and isinstance(value, (int, float)):
            # Metric sinks read the sampling rate as a double, whether the
            # caller wrote 1 or 1.0.
            field.value_type = _Field.DOUBLE
            field.value_double.append(float(value))
            continue
        values = list(value) if isinstance(value, (list, tuple)) else [value]
        if values:
            _add_values(field, values)
        else:
            field.value_type = _Field.STRING


# Protobuf wire framing for the parts encoded per message: field tags are
# (field number << 3) | wire type.
_BATCH_MESSAGE_TAG = b'\x0a'    # Batch.messages = 1, length-delimited
_UUID_TAG_AND_LENGTH = b'\x0a\x10'  # Message.uuid = 1, 16 bytes
_TIMESTAMP_TAG = b'\x10'        # Message.timestamp = 2, varint
_PAYLOAD_TAG = b'\x32'          # Message.payload = 6, length-delimited
_ONE_BYTE_VARINTS = [bytes((n,)) for n in range(128)]
_UUID_V4_CLEAR = ~((0xF << 76) | (0x3 << 62))
_UUID_V4_SET = (0x4 << 76) | (0x2 << 62)
# The encoder caches only parts whose serialization is at most this long (a
# counter's name, a short tag): a value that differs per message (a URL, a
# query, a traceback) would only fill the cache. Each cache is bounded in
# bytes, so what it holds is at most about 2 x _CACHE_BYTES (the key keeps
# the value, the entry its serialization) whatever the messages are.
_CACHED_PART_MAX_BYTES = 256
_CACHE_BYTES = 1 << 20
# What an entry costs besides the value and its serialization: the key
# tuple, the dict slot and the objects' headers.
_CACHE_ENTRY_OVERHEAD = 200


def _varint(value):
    """Protobuf's base-128 varint of a non-negative int."""
    if value < 128:
        return _ONE_BYTE_VARINTS[value]
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _random_uuid4():
    # Not cryptographic, as the C++ client's: it only has to be unique. The
    # random module reseeds itself in a forked child.
    bits = (random.getrandbits(128) & _UUID_V4_CLEAR) | _UUID_V4_SET
    return bits.to_bytes(16, 'big')


class BatchEncoder:
    """Encodes messages one at a time, each as a one-message Batch: the
    concatenation of serialized Batches is itself a serialized Batch, so a
    packet's batch is the join of the pieces and its size is known before
    it is built. Not thread-safe: one per sender thread.

    :param max_message_bytes: a larger message raises MessageTooLarge.
    """

    def __init__(self, max_message_bytes=MAX_MESSAGE_BYTES):
        self.max_message_bytes = max_message_bytes
        self._headers = _PartCache()
        self._fields = _PartCache()
        self._second_prefix = None
        self._second_ns = None

    def encode(self, msg):
        """The serialized one-message Batch for the dict `msg`."""
        try:
            body = self._encode_common(msg)
        except (KeyError, TypeError, ValueError, AttributeError):
            # Not the dict MetlogClient makes: the reference encoder.
            out = metlog_pb2.Message()
            fill_message(msg, out)
            body = out.SerializeToString()
        if len(body) > self.max_message_bytes:
            raise MessageTooLarge('message of %d bytes' % len(body))
        return _BATCH_MESSAGE_TAG + _varint(len(body)) + body

    def _encode_common(self, msg):
        payload = msg['payload']
        if payload.__class__ is not str:
            raise TypeError('payload is not text')
        try:
            payload = payload.encode('utf-8')
        except UnicodeEncodeError:
            payload = well_formed(payload).encode('utf-8')
        parts = [_UUID_TAG_AND_LENGTH, _random_uuid4()]
        timestamp = self._timestamp_ns(msg['timestamp'])
        if timestamp is not None:
            if timestamp < 0:
                raise ValueError('timestamp before 1970')
            parts += (_TIMESTAMP_TAG, _varint(timestamp))
        parts += (_PAYLOAD_TAG, _varint(len(payload)), payload)
        header_key = (msg['type'], msg['logger'], msg['severity'],
                      msg['env_version'], msg['metlog_pid'],
                      msg['metlog_hostname'])
        header = self._headers.get(header_key)
        if header is None:
            _check_severity(header_key[2])
            header = self._serialize({
                'type': header_key[0], 'logger': header_key[1],
                'severity': header_key[2], 'env_version': header_key[3],
                'metlog_pid': header_key[4], 'metlog_hostname': header_key[5]})
            self._headers.put(header_key, header)
        parts.append(header)
        fields = self._fields
        for name, value in msg['fields'].items():
            # The class is part of the key: True, 1 and 1.0 are equal keys.
            key = (name, value.__class__, value)
            try:
                field = fields.get(key)
            except TypeError:  # an unhashable value, e.g. a list
                parts.append(self._serialize({'fields': {name: value}}))
                continue
            if field is None:
                field = self._serialize({'fields': {name: value}})
                fields.put(key, field)
            parts.append(field)
        return b''.join(parts)

    def _timestamp_ns(self, value):
        # MetlogClient's timestamps share their first 19 characters for a
        # whole second: parse those once a second.
        if (value.__class__ is str and len(value) == 26 and value[19] == '.'
                and value[20:].isdigit()):
            prefix = value[:19]
            if prefix != self._second_prefix:
                self._second_ns = timestamp_ns(prefix)
                self._second_prefix = prefix
            if self._second_ns is not None:
                return self._second_ns + int(value[20:]) * 1000
        return timestamp_ns(value)

    @staticmethod
    def _serialize(partial_msg):
        out = metlog_pb2.Message()
        fill_message(partial_msg, out, with_uuid=False)
        return out.SerializeToString()



class _PartCache(dict):
    """Serialized message parts by what they were made from; small parts
    only, and at most _CACHE_BYTES of them (then it starts afresh)."""

    def __init__(self):
        super().__init__()
        self.charged_bytes = 0

    def put(self, key, part):
        if len(part) > _CACHED_PART_MAX_BYTES:
            return
        # The key holds the value the part was made from, about as long.
        cost = 2 * len(part) + _CACHE_ENTRY_OVERHEAD
        if self.charged_bytes + cost > _CACHE_BYTES:
            self.clear()
            self.charged_bytes = 0
        self[key] = part
        self.charged_bytes += cost


class PacketSigner:
    """HMAC-SHA256 over a Packet's batch bytes, under a key the router knows
    by (signer, key_version): the C++ client's client/packet_signer.cc."""

    def __init__(self, signer, key_version, key):
        self.signer = str(signer)
        self.key_version = int(key_version)
        if isinstance(key, int):  # an ini value made of digits
            key = str(key)
        self.key = key.encode('utf-8') if isinstance(key, str) else bytes(key)

    def sign(self, packet):
        packet.signature.signer = self.signer
        packet.signature.key_version = self.key_version
        packet.signature.hmac_sha256 = hmac.new(
            self.key, packet.batch, hashlib.sha256).digest()


def signer_from_options(signer, key, key_version):
    """The PacketSigner a sender's options ask for, or None (unsigned)."""
    if signer is None:
        return None
    if key is None:
        raise ValueError('signing packets as %r needs a `key`' % (signer,))
    return PacketSigner(signer, key_version, key)


def make_packet(batch_bytes, signer=None):
    """The serialized Packet carrying `batch_bytes`, signed when a signer is
    given."""
    packet = metlog_pb2.Packet(batch=batch_bytes)
    if signer is not None:
        signer.sign(packet)
    return packet.SerializeToString()
