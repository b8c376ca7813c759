"""Turns metlog-py message dicts into the Metlog wire envelope
(metlog.v1.Message, Batch, Packet; see proto/metlog.proto).

Key to field: type, logger, severity, payload and env_version map to the
fields of the same name; timestamp (an isoformat string as the client makes
it, a datetime, or seconds since the epoch) to nanoseconds; metlog_pid and
metlog_hostname to pid and hostname; each entry of `fields` to a typed Field.
"""

import hmac
import hashlib
import json
import uuid
from datetime import datetime, timezone

try:
    from metlog import metlog_pb2
except ImportError as error:  # pragma: no cover - a setup problem
    raise ImportError(
        'metlog.metlog_pb2 is missing: build with Bazel, or run '
        'client/python/generate_proto.sh once in a checkout') from error

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
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
        return int(value * 1000000000)
    return None


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
            v if isinstance(v, str) else json.dumps(v, default=str)
            for v in values)


def fill_message(msg, out):
    """Fills `out` (a cleared metlog_pb2.Message) from the dict `msg`."""
    out.uuid = uuid.uuid4().bytes
    ns = timestamp_ns(msg.get('timestamp'))
    if ns is not None:
        out.timestamp = ns
    for key in ('type', 'logger', 'env_version'):
        value = msg.get(key)
        if value is not None:
            setattr(out, key, str(value))
    payload = msg.get('payload')
    if payload is not None:
        out.payload = payload if isinstance(payload, str) else str(payload)
    severity = msg.get('severity')
    if isinstance(severity, int):
        out.severity = severity
    pid = msg.get('metlog_pid')
    if isinstance(pid, int):
        out.pid = pid
    hostname = msg.get('metlog_hostname')
    if hostname is not None:
        out.hostname = str(hostname)
    fields = msg.get('fields') or {}
    for name, value in fields.items():
        if value is None:
            continue
        field = out.fields.add()
        field.name = str(name)
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


class BatchEncoder:
    """Encodes messages one at a time, each as a one-message Batch: the
    concatenation of serialized Batches is itself a serialized Batch (a
    repeated field's encodings append), so a packet's batch is the join of
    the pieces and its size is known before it is built."""

    def __init__(self):
        self._batch = metlog_pb2.Batch()

    def encode(self, msg):
        """The serialized one-message Batch for the dict `msg`."""
        self._batch.Clear()
        fill_message(msg, self._batch.messages.add())
        return self._batch.SerializeToString()


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
