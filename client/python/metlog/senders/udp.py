"""UdpSender: Metlog packets over UDP, one Packet per datagram.

It keeps metlog-py's signature (`host`, `port`, each one value or a list;
every message goes to every host:port pair), but sends the Metlog envelope
from a background thread instead of JSON with a blocking sendto() per call.
"""

import socket
import sys
import threading
import time

from metlog.senders.envelope import MAX_MESSAGE_BYTES, signer_from_options
from metlog.senders.queued import QueuedSender

# The most a UDP datagram can carry over IPv4.
MAX_UDP_PAYLOAD = 65507
# A host that did not resolve is looked up again after this long (a DNS
# hiccup while a container starts must not silence it for good).
RESOLVE_RETRY_SECONDS = 1.0
# getaddrinfo() runs on a thread of its own: a DNS server that does not
# answer blocks it for the resolver's timeout (5 s x attempts). The sender
# waits this long for a destination's first lookup (so the first messages
# reach a host that resolves normally), and not at all for later ones.
FIRST_LOOKUP_WAIT_SECONDS = 0.5


class _Lookup:
    """One getaddrinfo() on a short-lived daemon thread."""

    def __init__(self, host, port):
        self.done = threading.Event()
        self.address_info = None
        self.error = None
        try:
            threading.Thread(target=self._run, args=(host, port),
                             name='metlog-resolve', daemon=True).start()
        except Exception as error:  # no threads left: retried later
            self.error = error
            self.done.set()

    def _run(self, host, port):
        try:
            self.address_info = socket.getaddrinfo(
                host, port, type=socket.SOCK_DGRAM)[0]
        except (OSError, UnicodeError) as error:
            self.error = error
        self.done.set()


class _Destination:
    """One host:port, resolved on first use (on a thread of its own); a
    failed lookup is retried after RESOLVE_RETRY_SECONDS, and meanwhile,
    as while a lookup is pending, only this destination's datagrams are
    lost."""

    def __init__(self, host, port):
        self.host = host
        self.port = port
        self.socket = None
        self.address = None
        self.problem = None
        self.undelivered = 0
        self._retry_at = 0.0
        self._lookup = None
        self._looked_up = False

    def ready(self, now):
        """True once it has an address, looking it up when due."""
        if self.address is not None:
            return True
        if self._lookup is None:
            if now < self._retry_at:
                return False
            self._lookup = _Lookup(self.host, self.port)
        wait = 0 if self._looked_up else FIRST_LOOKUP_WAIT_SECONDS
        self._looked_up = True
        if not self._lookup.done.wait(wait):
            if self.problem is None:
                self.problem = 'still resolving %s:%s' % (self.host,
                                                          self.port)
            return False
        lookup, self._lookup = self._lookup, None
        if lookup.error is not None:
            return self._failed(lookup.error)
        family, _, _, _, address = lookup.address_info
        try:
            self.socket = socket.socket(family, socket.SOCK_DGRAM)
        except OSError as error:
            return self._failed(error)
        self.address = address
        self.problem = None
        return True

    def _failed(self, error):
        self.problem = 'cannot resolve %s:%s (%s); retrying' % (
            self.host, self.port, error)
        self._retry_at = time.monotonic() + RESOLVE_RETRY_SECONDS
        return False


class UdpTransport:
    """Sends each packet to every destination without blocking. A packet
    counts as sent when at least one destination took it; count_misses()
    then counts its messages for each destination that did not."""

    def __init__(self, destinations):
        self.destinations = [_Destination(host, port)
                             for host, port in destinations]
        self._missed = []

    @property
    def problem(self):
        """Why some destination gets nothing right now, or None."""
        problems = [d.problem for d in self.destinations if d.problem]
        return '; '.join(problems) if problems else None

    def send(self, data):
        now = time.monotonic()
        accepted = False
        missed = []
        for destination in self.destinations:
            if not destination.ready(now):
                missed.append(destination)
                continue
            try:
                destination.socket.sendto(data, socket.MSG_DONTWAIT,
                                          destination.address)
                accepted = True
            except OSError:
                missed.append(destination)
        self._missed = missed
        return accepted

    def count_misses(self, messages):
        """Counts the `messages` of the packet last sent against each
        destination that did not take it; returns the sum."""
        for destination in self._missed:
            destination.undelivered += messages
        return messages * len(self._missed)

    def close(self):
        for destination in self.destinations:
            if destination.socket is not None:
                destination.socket.close()


def _destinations(host, port):
    """[(host, port)] from a host or hosts and a port or ports; raises
    ValueError or TypeError when they cannot work."""
    hosts = [host] if isinstance(host, str) else list(host)
    ports = [port] if isinstance(port, (int, str)) else list(port)
    ports = [int(p) for p in ports]
    if not hosts or not ports:
        raise ValueError('needs a host and a port')
    for p in ports:
        if not 1 <= p <= 65535:
            raise ValueError('port %d is not in 1..65535' % p)
    ports += [ports[-1]] * (len(hosts) - len(ports))
    return list(zip(hosts, ports))


class UdpSender(QueuedSender):
    """Sends messages as Metlog envelopes in UDP datagrams.

    :param host: a host or a list of hosts.
    :param port: a port or a list of ports, zipped with the hosts; extra
        hosts reuse the last port.
    :param max_packet_bytes: datagram size bound (at most 65507).
    Other parameters as ZmqPubSender's, and like them keyword-only
    (metlog-py's UdpSender took host and port only).

    As ZmqPubSender, it never raises on a bad host or port: it drops and
    counts every message (dropped_no_sender), and status() says why.

    A message counts as sent when at least one destination took it; each
    destination that did not (its host does not resolve yet, or sendto()
    failed) adds one to stats()['undelivered'], and to its own count in
    undelivered_by_destination().
    """

    def __init__(self, host='127.0.0.1', port=5565, *, queue_length=65536,
                 max_queue_bytes=64 << 20, max_packet_bytes=MAX_UDP_PAYLOAD,
                 linger_ms=5, signer=None, key=None, key_version=1,
                 max_message_bytes=MAX_MESSAGE_BYTES):
        try:
            self.destinations = _destinations(host, port)
            problem = None
        except (TypeError, ValueError) as error:
            self.destinations = []
            problem = 'UdpSender drops everything: %s' % error
            sys.stderr.write('metlog: %s\n' % problem)
        destinations = self.destinations

        super().__init__(lambda: UdpTransport(destinations), queue_length,
                         max_queue_bytes,
                         min(int(max_packet_bytes), MAX_UDP_PAYLOAD),
                         linger=int(linger_ms) / 1000.0,
                         signer=signer_from_options(signer, key, key_version),
                         max_message_bytes=max_message_bytes,
                         status=problem)

    def undelivered_by_destination(self):
        """{'host:port': sent messages that destination did not get}, since
        this process made its transport (empty before that)."""
        lock = self._hold()
        try:
            transport = self._transport
            if transport is None:
                return {}
            return {'%s:%s' % (d.host, d.port): d.undelivered
                    for d in transport.destinations}
        finally:
            lock.release()
