"""Runs code once in each new process, however the process was forked.

os.register_at_fork hooks run after os.fork() (gunicorn, multiprocessing),
but not after a C-level fork() that skips PyOS_AfterFork_Child: uWSGI makes
its workers that way unless it runs with --py-call-uwsgi-fork-hooks. The
senders notice such a fork by their pid and call notice_new_process(), so
that what depends on the pid (the clients' metlog_pid) follows.
"""

import os

_callbacks = []
# pid -> the token of whoever ran the callbacks there: dict.setdefault is
# atomic under the GIL, so two threads noticing the same fork run them once,
# without a lock (a lock could itself be held by a thread of the parent).
_claimed = {os.getpid(): None}


def on_new_process(callback):
    """Calls `callback()` in each new process, once, on the forking thread
    (os.fork) or on the thread that noticed the new pid (C fork)."""
    _callbacks.append(callback)


def notice_new_process():
    """Runs the callbacks if they have not run in this process yet."""
    token = object()
    if _claimed.setdefault(os.getpid(), token) is not token:
        return
    for callback in list(_callbacks):
        try:
            callback()
        except Exception:  # one failing callback must not stop the others
            pass


os.register_at_fork(after_in_child=notice_new_process)
