"""The demo's pretend web service in Python (tools/demo_app's twin, logger
"demo_py"): request counters with endpoint and status fields, long-tailed
latency timers, gauges, logs, and an exception now and then.

  PYTHONPATH=client/python /usr/bin/python3 tools/demo/demo_service.py \
      --endpoint tcp://127.0.0.1:5565 --rate 10 --duration 60
"""
import argparse
import math
import os
import random
import signal
import time

from metlog.client import MetlogClient
from metlog.senders import ZmqPubSender

# name, share of requests, median milliseconds, chance of a 5xx
ROUTES = [("home", 0.4, 8, 0.002), ("items", 0.35, 25, 0.01),
          ("checkout", 0.15, 120, 0.04), ("login", 0.1, 40, 0.01)]


def latency_ms(median):
    """Log-normal around the median, plus a Pareto tail for 2%."""
    ms = median * math.exp(random.gauss(0, 0.5))
    if random.random() < 0.02:
        ms += median * 5 * random.paretovariate(1.5)
    return ms


def serve_one(metlog):
    name, _, median, server_errors = random.choices(
        ROUTES, weights=[r[1] for r in ROUTES])[0]
    status = (500 if random.random() < server_errors else
              404 if random.random() < 0.03 else 200)
    elapsed = latency_ms(median)
    metlog.incr("requests", fields={"endpoint": name, "status": status})
    metlog.timer_send("request_latency", elapsed, fields={"endpoint": name})
    if elapsed > 1000:
        metlog.warn("slow request: %s took %.0f ms", name, elapsed)
    if status == 500:
        try:
            raise TimeoutError("database timeout while serving " + name)
        except TimeoutError:
            # metlog-py's exception() takes exc_info second, so no args.
            metlog.exception(name + " failed with 500")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", default=os.environ.get(
        "METLOG_ENDPOINT", "tcp://127.0.0.1:5565"))
    parser.add_argument("--rate", type=float, default=10,
                        help="requests per second")
    parser.add_argument("--duration", type=float, default=0,
                        help="seconds; 0 runs until SIGINT/SIGTERM")
    args = parser.parse_args()
    stopping = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.append(True))
    sender = ZmqPubSender([args.endpoint])
    metlog = MetlogClient(sender, "demo_py")
    start = next_request = next_report = time.monotonic()
    while not stopping and (args.duration <= 0 or
                            time.monotonic() - start < args.duration):
        serve_one(metlog)
        now = time.monotonic()
        if now >= next_report:
            metlog.metlog("gauge", payload=str(random.randint(0, 8)),
                          fields={"name": "inflight"})
            metlog.info("still serving")
            next_report += 1
        next_request += 1 / args.rate
        time.sleep(max(0.0, next_request - time.monotonic()))
    sender.flush(2)
    print("demo_service.py:", sender.stats())


if __name__ == "__main__":
    main()
