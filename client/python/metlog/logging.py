"""Routes Python standard logging records to a MetlogClient."""

import logging

from metlog.client import SEVERITY, _safe_text

_LEVEL_TO_SEVERITY = (
    (logging.DEBUG, SEVERITY.DEBUG),
    (logging.INFO, SEVERITY.INFORMATIONAL),
    (logging.WARNING, SEVERITY.WARNING),
    (logging.ERROR, SEVERITY.ERROR),
)


class MetlogHandler(logging.Handler):
    """A logging handler that sends each record as an 'oldstyle' message,
    the formatted record text as payload."""

    def __init__(self, metlog_client):
        logging.Handler.__init__(self)
        self.metlog_client = metlog_client

    def emit(self, record):
        severity = SEVERITY.CRITICAL
        for level, mapped in _LEVEL_TO_SEVERITY:
            if record.levelno <= level:
                severity = mapped
                break
        try:
            payload = record.getMessage()
        except Exception:
            payload = _safe_text(record.msg)
        self.metlog_client.metlog(type='oldstyle', severity=severity,
                                  payload=payload)


def hook_logger(logger_name, client):
    """Adds a MetlogHandler for `client` to the standard logger
    `logger_name`, once (hooking the same pair again does nothing)."""
    logger = logging.getLogger(logger_name)
    for existing in logger.handlers:
        if (isinstance(existing, MetlogHandler)
                and existing.metlog_client is client):
            return
    logger.addHandler(MetlogHandler(client))
