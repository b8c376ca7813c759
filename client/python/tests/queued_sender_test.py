"""QueuedSender's own machinery, with an in-memory transport."""

import collections
import os
import threading
import unittest
from unittest import mock

from metlog.senders import queued


class MemoryTransport:
    """Takes every packet and keeps it."""

    def __init__(self):
        self.packets = []

    def send(self, data):
        self.packets.append(data)
        return True

    def close(self):
        pass


def counter(i, pid):
    return {'type': 'counter', 'payload': '1', 'fields': {'n': str(i)},
            'metlog_pid': pid}


def accounted(stats):
    return sum(value for key, value in stats.items()
               if key == 'sent' or key == 'queued'
               or key.startswith('dropped_'))


class LockReplacedAfterCLevelForkTest(unittest.TestCase):
    """After a C-level fork, a thread of the parent held the sender's lock:
    the child replaces it, and only once its state is whole."""

    def test_two_threads_meeting_the_held_lock_share_one_new_state(self):
        transports = []

        def make_transport():
            transports.append(MemoryTransport())
            return transports[-1]

        sender = queued.QueuedSender(make_transport, 1000, 1 << 20, 65000,
                                     linger=0)
        self.addCleanup(sender.close)
        sender._lock.acquire()  # held by a parent thread at the fork
        parent_pid = os.getpid()
        child_pid = parent_pid + 100000
        self.enterContext(mock.patch.object(queued, '_getpid',
                                            lambda: child_pid))

        # The thread that replaces the lock stops in the middle of making
        # the new state until the other caller has returned (or clearly
        # waits for it: 2 s).
        callers_done = []
        paused = threading.Event()
        first_call_done = threading.Event()
        real_deque = collections.deque

        class PausingCollections:
            @staticmethod
            def deque(*args):
                if not paused.is_set() and threading.current_thread().name \
                        .startswith('caller'):
                    paused.set()
                    first_call_done.wait(2)
                return real_deque(*args)

        self.enterContext(mock.patch.object(queued, 'collections',
                                            PausingCollections))
        senders_before = {t for t in threading.enumerate()
                          if t.name == 'metlog-sender'}

        def call(i):
            sender.send_message(counter(i, parent_pid))
            callers_done.append(i)
            first_call_done.set()

        callers = [threading.Thread(target=call, args=(i,),
                                    name='caller%d' % i) for i in range(2)]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join(30)
        self.assertEqual(sorted(callers_done), [0, 1])
        self.assertTrue(sender.flush(10))

        new_senders = [t for t in threading.enumerate()
                       if t.name == 'metlog-sender' and t.is_alive()
                       and t not in senders_before]
        self.assertEqual(len(new_senders), 1)
        self.assertEqual(len(transports), 1)
        stats = sender.stats()
        self.assertEqual(stats['sent'], 2, stats)
        self.assertEqual(accounted(stats), 2, stats)


if __name__ == '__main__':
    unittest.main()
