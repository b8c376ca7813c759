"""StdLibLoggingSender: hands messages to Python's standard `logging`."""

import json
import logging

# Metlog (RFC 5424) severity to logging level.
SEVERITY_MAP = {
    0: logging.CRITICAL,  # emergency
    1: logging.CRITICAL,  # alert
    2: logging.CRITICAL,  # critical
    3: logging.ERROR,
    4: logging.WARNING,
    5: logging.INFO,      # notice
    6: logging.INFO,
    7: logging.DEBUG,
}


class StdLibLoggingSender:
    """Logs each message through `logging.getLogger(logger_name)`: messages
    of `payload_types` as their payload text, those of `json_types` as the
    whole message in JSON ('*' matches every type), others not at all."""

    def __init__(self, logger_name=None, payload_types=None, json_types=None):
        self.logger = logging.getLogger(logger_name)
        if payload_types is None:
            payload_types = ['oldstyle']
        if isinstance(payload_types, str):
            payload_types = [payload_types]
        self.payload_types = set(payload_types)
        if json_types is None:
            json_types = ['*']
        if isinstance(json_types, str):
            json_types = [json_types]
        self.json_types = set(json_types)

    def send_message(self, msg):
        msg_type = msg['type']
        if msg_type in self.payload_types or '*' in self.payload_types:
            text = msg['payload']
        elif msg_type in self.json_types or '*' in self.json_types:
            text = json.dumps(msg)
        else:
            return
        self.logger.log(SEVERITY_MAP.get(msg['severity'], logging.WARNING),
                        text)
