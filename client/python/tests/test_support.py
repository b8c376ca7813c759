"""Helpers shared by the package's tests: stand-in routers on real sockets
and decoding of what they receive."""

import socket
import time

import zmq

from metlog import metlog_pb2


def decode_packet(data):
    """(Packet, [Message]) from one datagram or ZeroMQ message."""
    packet = metlog_pb2.Packet()
    packet.ParseFromString(data)
    batch = metlog_pb2.Batch()
    batch.ParseFromString(packet.batch)
    return packet, list(batch.messages)


def field_values(message):
    """{name: [values]} of a Message's fields, from the list its type
    names."""
    kinds = {
        metlog_pb2.Field.STRING: 'value_string',
        metlog_pb2.Field.BYTES: 'value_bytes',
        metlog_pb2.Field.INTEGER: 'value_integer',
        metlog_pb2.Field.DOUBLE: 'value_double',
        metlog_pb2.Field.BOOL: 'value_bool',
    }
    return {f.name: list(getattr(f, kinds[f.value_type]))
            for f in message.fields}


class PullRouter:
    """A ZeroMQ PULL socket bound to a free loopback port: what the router's
    default input is, without the router."""

    def __init__(self):
        self.context = zmq.Context()
        self.socket = self.context.socket(zmq.PULL)
        port = self.socket.bind_to_random_port('tcp://127.0.0.1')
        self.endpoint = 'tcp://127.0.0.1:%d' % port

    def receive(self, count, timeout=10.0):
        """Packets until `count` messages arrived (or the timeout):
        [(Packet, [Message])]."""
        packets = []
        received = 0
        deadline = time.monotonic() + timeout
        while received < count and time.monotonic() < deadline:
            if self.socket.poll(50):
                packet = decode_packet(self.socket.recv())
                packets.append(packet)
                received += len(packet[1])
        return packets

    def close(self):
        self.socket.close(linger=0)
        self.context.term()


class UdpRouter:
    """A UDP socket bound to a free loopback port."""

    def __init__(self):
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(('127.0.0.1', 0))
        self.socket.settimeout(0.05)
        self.port = self.socket.getsockname()[1]

    def receive(self, count, timeout=10.0):
        """Datagrams until `count` messages arrived (or the timeout):
        [(datagram size, Packet, [Message])]."""
        datagrams = []
        received = 0
        deadline = time.monotonic() + timeout
        while received < count and time.monotonic() < deadline:
            try:
                data = self.socket.recv(70000)
            except socket.timeout:
                continue
            packet, messages = decode_packet(data)
            datagrams.append((len(data), packet, messages))
            received += len(messages)
        return datagrams

    def close(self):
        self.socket.close()
