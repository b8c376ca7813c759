"""Checks the ZeroMQ endpoints a sender connects to, as the C++ client's
client/endpoint.h does, so that one that cannot work is found when the
sender is made instead of dropping every message as unsent.

Unlike the C++ check, a host name is not looked up here: an unresolvable
one is ZeroMQ's to retry, and its packets count as dropped_unsent."""

import ipaddress
import os
import re

_TCP = re.compile(r'tcp://(\[[^\]]*\]|[^:/\[\]]+):([0-9]{1,5})\Z')
_HOST_NAME = re.compile(r'[A-Za-z0-9_.-]+\Z')


def _tcp_problem(endpoint):
    match = _TCP.match(endpoint)
    if match is None:
        return 'expected tcp://HOST:PORT'
    host, port = match.groups()
    if not 1 <= int(port) <= 65535:
        return 'port must be 1..65535'
    if host.startswith('['):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return 'not an IPv6 address: %s' % host
    elif not _HOST_NAME.match(host):
        return 'not a host name or address: %s' % host
    return None


def _ipc_problem(path):
    if path.startswith('@'):
        return None if len(path) > 1 else 'empty abstract socket name'
    if not path:
        return 'empty path'
    directory = os.path.dirname(path) or '.'
    if not os.path.isdir(directory):
        return 'no such directory: %s' % directory
    return None


def endpoint_problem(endpoint):
    """Why `endpoint` cannot work, or None: tcp://HOST:PORT (PORT 1..65535,
    HOST an address, a [bracketed IPv6 address] or a name),
    ipc://PATH whose directory exists or ipc://@abstract, inproc://NAME."""
    if not isinstance(endpoint, str):
        problem = 'not a string'
    elif endpoint.startswith('tcp://'):
        problem = _tcp_problem(endpoint)
    elif endpoint.startswith('ipc://'):
        problem = _ipc_problem(endpoint[len('ipc://'):])
    elif endpoint.startswith('inproc://'):
        problem = None if len(endpoint) > len('inproc://') else 'empty name'
    else:
        problem = 'expected tcp://, ipc:// or inproc://'
    if problem is None:
        return None
    return 'bad endpoint %r: %s' % (endpoint, problem)


def endpoints_problem(endpoints):
    """Why the list `endpoints` cannot work, or None."""
    if not endpoints:
        return 'no endpoint given'
    for endpoint in endpoints:
        problem = endpoint_problem(endpoint)
        if problem is not None:
            return problem
    return None
