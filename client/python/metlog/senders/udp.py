"""UdpSender: Metlog packets over UDP, one Packet per datagram.

It keeps metlog-py's signature (`host`, `port`, each one value or a list;
every message goes to every host:port pair), but sends the Metlog envelope
from a background thread instead of JSON with a blocking sendto() per call.
"""

import socket
import sys

from metlog.senders.envelope import MAX_MESSAGE_BYTES, signer_from_options
from metlog.senders.queued import QueuedSender

# The most a UDP datagram can carry over IPv4.
MAX_UDP_PAYLOAD = 65507


class UdpTransport:
    """Sends each packet to every destination without blocking."""

    def __init__(self, destinations):
        self._sockets = []
        for host, port in destinations:
            family, _, _, _, address = socket.getaddrinfo(
                host, port, type=socket.SOCK_DGRAM)[0]
            sock = socket.socket(family, socket.SOCK_DGRAM)
            self._sockets.append((sock, address))

    def send(self, data):
        accepted = True
        for sock, address in self._sockets:
            try:
                sock.sendto(data, socket.MSG_DONTWAIT, address)
            except OSError:
                accepted = False
        return accepted

    def close(self):
        for sock, _ in self._sockets:
            sock.close()


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
    Other parameters as ZmqPubSender's.

    As ZmqPubSender, it never raises on a bad host or port: it drops and
    counts every message (dropped_no_sender), and status() says why.
    """

    def __init__(self, host='127.0.0.1', port=5565, queue_length=65536,
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
