"""What MetlogClient.incr() costs a Python service, with the router up.

    bazel run -c opt //client/python:incr_benchmark \
        [-- --calls N --full-speed M]

Starts //router (a ZeroMQ input on a free port and a file sink in a
temporary directory), then, in one run:

1. incr() p50/p90/p99 on the calling thread, side by side: ZmqPubSender
   (queue append; a background thread encodes and sends) against
   metlog-py 0.10's own UDP path, reproduced here: the message json.dumps'ed
   and sent with a blocking sendto() per call. Calls go in bursts of 1000
   with a flush between bursts (not timed), so no call is a cheap drop.
2. M incr() calls at full speed: every call must be counted by the sender
   as sent or dropped, and the router's count (file sink lines; its Admin
   Stats printed by metlogctl) must equal the sent count.
"""

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

from metlog.client import MetlogClient
from metlog.senders import ZmqPubSender

BURST = 1000


def runfile(path):
    here = os.path.abspath(__file__)
    roots = [os.environ.get('RUNFILES_DIR')]
    if '.runfiles' + os.sep in here:
        roots.append(here[:here.index('.runfiles' + os.sep) + 9])
    for root in roots:
        if root and os.path.exists(os.path.join(root, 'metlog', path)):
            return os.path.join(root, 'metlog', path)
    raise FileNotFoundError(path + ' (run with bazel run)')


class Router:
    def __init__(self, workdir):
        self.output = os.path.join(workdir, 'messages.jsonl')
        config = os.path.join(workdir, 'router.textproto')
        with open(config, 'w') as out:
            out.write('''
                inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] { endpoint: "tcp://127.0.0.1:*" } } }
                admin { listen_address: "127.0.0.1:0" }
                stats_interval_ms: 0
                sinks { name: "file" match: 'Logger == "bench"'
                  queue { capacity_messages: 4000000
                          capacity_bytes: 4294967296 }
                  options { [type.googleapis.com/metlog.sinks.FileOptions] {
                    path: "%s" max_bytes: 0 } } }
                ''' % self.output)
        self.log_path = os.path.join(workdir, 'router.stderr')
        self.log = open(self.log_path, 'w')
        self.process = subprocess.Popen(
            [runfile('router/router'), '--config=' + config],
            stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 15
        self.endpoint = self.admin = None
        while time.monotonic() < deadline and self.endpoint is None:
            time.sleep(0.05)
            with open(self.log_path) as log:
                text = log.read()
            admin = re.search(r'admin listening on port (\d+)', text)
            endpoint = re.search(r'input zmq (tcp://\S+) listening', text)
            if admin and endpoint:
                self.admin = '127.0.0.1:' + admin.group(1)
                self.endpoint = endpoint.group(1)
        if self.endpoint is None:
            raise RuntimeError('router did not start:\n' + text)

    def delivered(self):
        """Lines the file sink wrote."""
        if not os.path.exists(self.output):
            return 0
        with open(self.output, 'rb') as out:
            return sum(1 for _ in out)

    def accepted(self):
        """Messages the ZeroMQ input accepted, from the Admin Stats."""
        match = re.search(r'input zmq: packets \d+, messages accepted (\d+)',
                          self.admin_stats())
        return int(match.group(1)) if match else -1

    def wait_for(self, count_fn, expected, timeout=120):
        """count_fn() once it reaches `expected` or stops growing for 3 s."""
        deadline = time.monotonic() + timeout
        count, last_change, last = 0, time.monotonic(), -1
        while time.monotonic() < deadline:
            count = count_fn()
            if count >= expected:
                return count
            if count != last:
                last, last_change = count, time.monotonic()
            elif time.monotonic() - last_change > 3:
                return count
            time.sleep(0.2)
        return count

    def admin_stats(self):
        result = subprocess.run(
            [runfile('tools/metlogctl'), '--admin=' + self.admin, 'stats'],
            capture_output=True, text=True, timeout=10)
        return result.stdout.strip() or result.stderr.strip()

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=15)
        self.log.close()


class MetlogPyUdpSender:
    """metlog-py 0.10's UdpSender.send_message: JSON, one blocking sendto()
    per message."""

    def __init__(self, host, port):
        self._destinations = [(host, port)]
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def send_message(self, msg):
        json_msg = json.dumps(msg).encode()
        for destination in self._destinations:
            self.socket.sendto(json_msg, destination)


def percentiles(samples):
    samples = sorted(samples)
    pick = lambda q: samples[min(len(samples) - 1, int(len(samples) * q))]
    return pick(0.5), pick(0.9), pick(0.99)


def time_incr(client, calls, between_bursts):
    clock = time.perf_counter_ns
    incr = client.incr
    samples = []
    for _ in range(calls // BURST):
        for _ in range(BURST):
            start = clock()
            incr('bench.calls')
            samples.append(clock() - start)
        between_bursts()
    return samples


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--calls', type=int, default=200000,
                        help='timed incr() calls per sender')
    parser.add_argument('--full-speed', type=int, default=1000000,
                        help='incr() calls in the full-speed run')
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix='metlog-py-bench-')
    router = Router(workdir)
    try:
        zmq_sender = ZmqPubSender(router.endpoint)
        zmq_client = MetlogClient(zmq_sender, 'bench')
        zmq_client.incr('warmup')
        zmq_sender.flush(5)

        sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sink.bind(('127.0.0.1', 0))  # receives nothing: the cost is sendto
        udp_client = MetlogClient(
            MetlogPyUdpSender('127.0.0.1', sink.getsockname()[1]), 'bench')

        before = dict(zmq_sender.stats())
        zmq = time_incr(zmq_client, args.calls,
                        lambda: zmq_sender.flush(10))
        after = zmq_sender.stats()
        drops = (sum(v for k, v in after.items() if k.startswith('dropped'))
                 - sum(v for k, v in before.items()
                       if k.startswith('dropped')))
        udp = time_incr(udp_client, args.calls, lambda: None)
        zmq_p = percentiles(zmq)
        udp_p = percentiles(udp)
        print('incr() on the calling thread, %d calls each (ns):' % args.calls)
        print('  %-34s p50 %6d  p90 %6d  p99 %6d' % (
            'ZmqPubSender (this package)', *zmq_p))
        print('  %-34s p50 %6d  p90 %6d  p99 %6d' % (
            'metlog-py UDP (json + sendto)', *udp_p))
        print('  p50 ratio: %.1fx less; drops while timing: %d'
              % (udp_p[0] / zmq_p[0], drops))

        full = ZmqPubSender(router.endpoint)
        full_client = MetlogClient(full, 'bench')
        start = time.perf_counter()
        for _ in range(args.full_speed):
            full_client.incr('bench.full')
        elapsed = time.perf_counter() - start
        full.flush(60)
        stats = full.stats()
        dropped = sum(v for k, v in stats.items() if k.startswith('dropped'))
        sent_in_run = zmq_sender.stats()['sent'] + stats['sent']
        accepted = router.wait_for(router.accepted, sent_in_run)
        written = router.wait_for(router.delivered, sent_in_run)
        print('%d incr() at full speed: %.2f s on the calling thread '
              '(%.0f calls/s)' % (args.full_speed, elapsed,
                                  args.full_speed / elapsed))
        print('  sender: sent %d, dropped %d (%s), queued %d' % (
            stats['sent'], dropped,
            ', '.join('%s %d' % (k, v) for k, v in stats.items()
                      if k.startswith('dropped') and v) or 'none',
            stats['queued']))
        print('  every call counted as sent or dropped: %s'
              % (stats['sent'] + dropped == args.full_speed))
        print('  sent in this run (all senders): %d; router input accepted '
              '%d; file sink lines %d; all equal: %s' % (
                  sent_in_run, accepted, written,
                  sent_in_run == accepted == written))
        print('  router admin stats (metlogctl stats):')
        for line in router.admin_stats().splitlines():
            print('    ' + line)
        ok = (stats['sent'] + dropped == args.full_speed
              and sent_in_run == accepted == written)
    finally:
        router.stop()
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
