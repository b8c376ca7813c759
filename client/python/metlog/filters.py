"""Message filters. Each provider takes the filter's configuration and
returns `filter(msg) -> bool`: True sends the message, False drops it. A
filter may change the message."""


def severity_max_provider(severity):
    """Drops messages less severe (a higher number) than `severity`."""
    def severity_max(msg):
        return msg['severity'] <= severity
    return severity_max


def type_blacklist_provider(types):
    """Drops messages whose type is in `types`."""
    types = _as_set(types)

    def type_blacklist(msg):
        return msg['type'] not in types
    return type_blacklist


def type_whitelist_provider(types):
    """Drops messages whose type is not in `types`."""
    types = _as_set(types)

    def type_whitelist(msg):
        return msg['type'] in types
    return type_whitelist


def type_severity_max_provider(types):
    """Per-type severity maximum: `types` maps a type to the keyword
    arguments of severity_max_provider, e.g. {'timer': {'severity': 4}}.
    Types not named pass."""
    per_type = {msg_type: severity_max_provider(**config)
                for msg_type, config in types.items()}

    def type_severity_max(msg):
        severity_filter = per_type.get(msg['type'])
        return severity_filter is None or severity_filter(msg)
    return type_severity_max


def _as_set(types):
    return {types} if isinstance(types, str) else set(types)
