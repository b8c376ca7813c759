"""Metlog for Python: the metlog-py 0.10 API, sending Metlog envelopes.

    from metlog.client import MetlogClient
    from metlog.senders import ZmqPubSender
    client = MetlogClient(ZmqPubSender(), 'myapp')
    client.incr('orders')
"""
