"""ZmqPubSender: PUSHes Metlog packets to one or more routers over ZeroMQ.

It keeps metlog-py's name and configuration keys (`bindstrs`,
`queue_length`), but speaks the Metlog envelope to the router's ZeroMQ
input; with no endpoint given it reaches $METLOG_ENDPOINT, or the router's
default input tcp://127.0.0.1:5565.
"""

import json
import os
import sys

import zmq

from metlog.senders.envelope import MAX_MESSAGE_BYTES, signer_from_options
from metlog.senders.queued import QueuedSender

DEFAULT_ENDPOINT = 'tcp://127.0.0.1:5565'


class ZmqTransport:
    """A PUSH socket connected to every endpoint. Sends never block: with
    IMMEDIATE set, a packet is refused when no router is connected or all
    of their queues are full, instead of piling up in memory."""

    def __init__(self, endpoints, send_hwm, close_linger_ms):
        self._context = zmq.Context(io_threads=1)
        self._socket = self._context.socket(zmq.PUSH)
        self._socket.setsockopt(zmq.IMMEDIATE, 1)
        self._socket.setsockopt(zmq.SNDHWM, send_hwm)
        self._socket.setsockopt(zmq.LINGER, close_linger_ms)
        for endpoint in endpoints:
            self._socket.connect(endpoint)

    def send(self, data):
        try:
            self._socket.send(data, zmq.NOBLOCK)
            return True
        except Exception:  # EAGAIN, or a context already terminated at exit
            return False

    def close(self):
        # The linger bounds how long queued packets may still leave.
        self._socket.close()
        self._context.term()


class ZmqPubSender(QueuedSender):
    """Sends messages as Metlog envelopes over ZeroMQ PUSH.

    :param bindstrs: endpoint or list of endpoints (several spread the
        load); default $METLOG_ENDPOINT, else tcp://127.0.0.1:5565.
    :param queue_length: messages the queue holds before dropping.
    :param max_queue_bytes: bytes the queue holds before dropping.
    :param max_packet_bytes: upper bound on one packet.
    :param max_message_bytes: upper bound on one message (the router's
        max_message_bytes); a larger one is dropped and counted.
    :param send_hwm: packets ZeroMQ buffers per connected router.
    :param linger_ms: how long a message waits for its packet to fill.
    :param close_linger_ms: how long packets may still leave at close.
    :param signer, key, key_version: sign every packet with HMAC-SHA256
        under `key`, as the router's signer `signer` expects.
    :param debug_stderr: also write each message to stderr as JSON
        (metlog-py's debugging aid).
    :param pool_size: accepted for metlog-py configs; one socket serves all.
    """

    def __init__(self, bindstrs=None, pool_size=None, queue_length=65536,
                 max_queue_bytes=64 << 20, max_packet_bytes=1 << 20,
                 send_hwm=1000, linger_ms=5, close_linger_ms=1000,
                 signer=None, key=None, key_version=1, debug_stderr=False,
                 max_message_bytes=MAX_MESSAGE_BYTES):
        if bindstrs is None:
            bindstrs = os.environ.get('METLOG_ENDPOINT') or DEFAULT_ENDPOINT
        if isinstance(bindstrs, str):
            bindstrs = [bindstrs]
        self.bindstrs = list(bindstrs)
        self.debug_stderr = bool(debug_stderr)
        if not self.bindstrs:
            raise ValueError('ZmqPubSender needs at least one endpoint')
        endpoints = self.bindstrs

        def make_transport():
            return ZmqTransport(endpoints, int(send_hwm), int(close_linger_ms))

        super().__init__(make_transport, queue_length, max_queue_bytes,
                         max_packet_bytes, linger=int(linger_ms) / 1000.0,
                         signer=signer_from_options(signer, key, key_version),
                         max_message_bytes=max_message_bytes)

    def send_message(self, msg):
        if self.debug_stderr:
            try:
                sys.stderr.write(json.dumps(msg, default=str) + '\n')
            except Exception:
                pass
        super().send_message(msg)
