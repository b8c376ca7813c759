"""Senders: any object with `send_message(msg)` taking a message dict.

ZmqPubSender and UdpSender send Metlog envelopes to the router; the others
are for development, tests and the standard logging module.
"""


class NoSendSender:
    """The placeholder of a client that has no sender yet: sending raises
    NotImplementedError (the client reports it on stderr)."""

    def send_message(self, msg):
        raise NotImplementedError


from metlog.senders.dev import DebugCaptureSender  # noqa: E402
from metlog.senders.dev import FileSender  # noqa: E402
from metlog.senders.dev import StdOutSender  # noqa: E402
from metlog.senders.dev import StreamSender  # noqa: E402
from metlog.senders.logging import StdLibLoggingSender  # noqa: E402
from metlog.senders.udp import UdpSender  # noqa: E402
from metlog.senders.zmq import ZmqPubSender  # noqa: E402

__all__ = ['DebugCaptureSender', 'FileSender', 'NoSendSender',
           'StdLibLoggingSender', 'StdOutSender', 'StreamSender',
           'UdpSender', 'ZmqPubSender']
