"""A service written against metlog-py 0.10, unchanged: configured from ini
text, it counts, times, logs and reports an exception, then exits (queued
messages leave at exit). The router's endpoint comes from the environment."""

import time

from metlog.config import client_from_text_config
from metlog.decorators import incr_count
from metlog.holder import CLIENT_HOLDER

CONFIG = '''
[metlog]
logger = e2e_app
severity = 6
sender_class = metlog.senders.zmq.ZmqPubSender
sender_bindstrs = ${METLOG_E2E_ROUTER}
sender_queue_length = 5000

[metlog_filter_sev_max]
provider = metlog.filters.severity_max_provider
severity = 6
'''


@incr_count(name='checkout.calls')
def checkout(items):
    return sum(items)


def main():
    client = client_from_text_config(CONFIG, 'metlog')
    CLIENT_HOLDER.set_client('e2e_app', client)
    CLIENT_HOLDER.set_default_client_name('e2e_app')

    client.incr('orders', 3, fields={'shop': 'eu'})
    checkout([1, 2])
    with client.timer('db.query'):
        time.sleep(0.01)
    client.timer_send('render', 25, rate=0.5)
    client.info('user %s logged in', 'ann')
    client.debug('filtered out by severity_max')
    try:
        {}['missing']
    except KeyError:
        client.exception('request failed')


if __name__ == '__main__':
    main()
