"""Senders for development and tests: streams of JSON, and an in-memory
capture. They write the message dict as metlog-py does (JSON)."""

import collections
import json
import sys

from metlog.path import resolve_name


class StreamSender:
    """Writes each message to `stream`, formatted by `formatter` (a callable
    or its dotted name; default: JSON indented by 4 spaces)."""

    def __init__(self, stream, formatter=None):
        self.stream = stream
        if formatter is None:
            self.formatter = self.default_formatter
        elif callable(formatter):
            self.formatter = formatter
        else:
            self.formatter = resolve_name(formatter)

    def default_formatter(self, msg):
        return json.dumps(msg, indent=4)

    def send_message(self, msg):
        self.stream.write('%s\n' % self.formatter(msg))
        self.stream.flush()


class StdOutSender(StreamSender):
    """Writes messages to standard output."""

    def __init__(self, *args, **kwargs):
        super().__init__(sys.stdout, *args, **kwargs)


class FileSender(StreamSender):
    """Appends messages to the file at `filepath`."""

    def __init__(self, filepath, *args, **kwargs):
        super().__init__(open(filepath, 'a'), *args, **kwargs)


class DebugCaptureSender:
    """Keeps the last 100 messages, as JSON strings, in `msgs` (a deque).
    Any keyword arguments become attributes, which helps test configs."""

    def __init__(self, **kwargs):
        self.msgs = collections.deque(maxlen=100)
        for key, value in kwargs.items():
            setattr(self, key, value)

    def send_message(self, msg):
        self.msgs.append(json.dumps(msg))
