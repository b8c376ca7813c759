"""ZmqPubSender: PUSHes Metlog packets to one or more routers over ZeroMQ.

It keeps metlog-py's name and configuration keys (`bindstrs`,
`queue_length`), but speaks the Metlog envelope to the router's ZeroMQ
input; with no endpoint given it reaches $METLOG_ENDPOINT, or the router's
default input tcp://127.0.0.1:5565.

Memory: what waits in the queue is bounded by `max_queue_bytes`; the
background thread holds one batch's packet being built (about 3 x
`max_packet_bytes`); ZeroMQ holds at most `send_hwm` packets per connected
router plus the one being written (with the defaults, 33 x 128 KiB, about
4 MiB per router), and the kernel its socket buffers. A router that stops
reading therefore costs drops, not memory.
"""

import json
import os
import sys

import zmq

from metlog.senders.endpoint import endpoints_problem
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
        if any(endpoint.startswith('tcp://[') for endpoint in endpoints):
            # Without it ZeroMQ accepts an IPv6 endpoint but never connects.
            self._socket.setsockopt(zmq.IPV6, 1)
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
    :param pool_size: accepted for metlog-py configs; one socket serves all.
    :param queue_length: messages the queue holds before dropping.
    :param livecheck: accepted for metlog-py configs (its reconnect
        interval); ZeroMQ reconnects by itself. A bool here is taken as
        debug_stderr, which metlog-py 0.8.5 had in this place.
    :param debug_stderr: also write each message to stderr as JSON
        (metlog-py's debugging aid).

    The first five parameters are metlog-py 0.9's, in its order, so that
    its positional calls work unchanged; the others are keyword-only:

    :param max_queue_bytes: bytes the queue holds before dropping.
    :param max_packet_bytes: upper bound on one packet.
    :param max_message_bytes: upper bound on one message (the router's
        max_message_bytes); a larger one is dropped and counted.
    :param send_hwm: packets ZeroMQ buffers per connected router; with
        max_packet_bytes, the bound on ZeroMQ's memory per router.
    :param linger_ms: how long a message waits for its packet to fill.
    :param close_linger_ms: how long packets may still leave at close.
    :param signer, key, key_version: sign every packet with HMAC-SHA256
        under `key`, as the router's signer `signer` expects.

    As the C++ client, it never raises on a bad endpoint: an endpoint list
    that cannot work (empty, one malformed endpoint, not a string) leaves a
    sender that drops and counts every message (dropped_no_sender), whose
    status() says why; that is also written once to stderr.
    """

    def __init__(self, bindstrs=None, pool_size=None, queue_length=65536,
                 livecheck=None, debug_stderr=False, *,
                 max_queue_bytes=64 << 20, max_packet_bytes=128 << 10,
                 send_hwm=32, linger_ms=5, close_linger_ms=1000,
                 signer=None, key=None, key_version=1,
                 max_message_bytes=MAX_MESSAGE_BYTES):
        if isinstance(livecheck, bool):
            debug_stderr = debug_stderr or livecheck
        if bindstrs is None:
            bindstrs = os.environ.get('METLOG_ENDPOINT') or DEFAULT_ENDPOINT
        if isinstance(bindstrs, str):
            bindstrs = [bindstrs]
        try:
            self.bindstrs = list(bindstrs)
        except TypeError:  # one endpoint of a wrong type, e.g. an ini's int
            self.bindstrs = [bindstrs]
        self.debug_stderr = bool(debug_stderr)
        endpoints = self.bindstrs
        problem = endpoints_problem(endpoints)
        if problem is not None:
            sys.stderr.write('metlog: ZmqPubSender drops everything: %s\n'
                             % problem)

        def make_transport():
            return ZmqTransport(endpoints, int(send_hwm), int(close_linger_ms))

        super().__init__(make_transport, queue_length, max_queue_bytes,
                         max_packet_bytes, linger=int(linger_ms) / 1000.0,
                         signer=signer_from_options(signer, key, key_version),
                         max_message_bytes=max_message_bytes,
                         status=problem)

    def send_message(self, msg):
        if self.debug_stderr:
            try:
                sys.stderr.write(json.dumps(msg, default=str) + '\n')
            except Exception:
                pass
        super().send_message(msg)
