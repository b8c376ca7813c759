"""Builds a configured MetlogClient from an ini text, stream or dict.

ini layout (section name chosen by the caller, here `metlog`):

    [metlog]
    logger = myapp
    severity = 4
    disabled_timers = foo
                      bar
    sender_class = metlog.senders.ZmqPubSender
    sender_bindstrs = tcp://127.0.0.1:5565
    global_disabled_decorators = incr_count

    [metlog_filter_sev_max]
    provider = metlog.filters.severity_max_provider
    severity = 4

    [metlog_plugin_dummy]
    provider = some.module.config_plugin
    port = 8080

Values are converted: integers, true/false words, newline-separated lists,
and ${VAR} from the environment (EnvironmentNotFoundError when unset).
`sender_*` keys configure the sender (`class` is its dotted name; without
one, a ZmqPubSender to the named or the default endpoint), `global_*` keys
go to CLIENT_HOLDER.global_config.
"""

import configparser
import copy
import io
import os
import re
import weakref
from textwrap import dedent

from metlog.client import MetlogClient
from metlog.exceptions import EnvironmentNotFoundError
from metlog.path import resolve_name

_IS_INTEGER = re.compile(r'^-?[0-9].*')
_IS_ENV_VAR = re.compile(r'\$\{(\w.*)?\}')
_TRUE_WORDS = ('true', 't', 'on', 'yes')
_FALSE_WORDS = ('false', 'f', 'off', 'no')
DEFAULT_SENDER = 'metlog.senders.ZmqPubSender'
# Senders made from a config here: reconfiguring their client (e.g.
# holder.get_client(name, config) again) closes them, or each one would keep
# its thread, ZeroMQ context and socket for the life of the process. A
# sender the application made itself stays the application's to close.
_SENDERS_MADE_HERE = weakref.WeakSet()


def _environment_value(match):
    name = match.group(1)
    if name not in os.environ:
        raise EnvironmentNotFoundError(name)
    return os.environ[name]


def _convert_one(value):
    if not isinstance(value, str):
        return value
    value = value.strip()
    if _IS_INTEGER.match(value):
        try:
            return int(value)
        except ValueError:
            pass
    elif value.lower() in _TRUE_WORDS:
        return True
    elif value.lower() in _FALSE_WORDS:
        return False
    match = _IS_ENV_VAR.match(value)
    if match:
        return _environment_value(match)
    return value


def _convert(value):
    """An ini value as Python: int, bool, ${ENV}, or a list of those when
    the value spans several lines."""
    if isinstance(value, str) and '\n' in value:
        return [_convert_one(line) for line in value.split('\n')
                if line.strip() != '']
    return _convert_one(value)


def nest_prefixes(config_dict, prefixes=('sender', 'global'), separator='_'):
    """Moves `prefix_key` entries into a nested `prefix` dict (merged into
    one already there). Mutates and returns `config_dict`."""
    for prefix in prefixes:
        full_prefix = prefix + separator
        nested = {key[len(full_prefix):]: value
                  for key, value in config_dict.items()
                  if key.startswith(full_prefix)}
        if nested:
            config_dict.setdefault(prefix, {}).update(nested)
    return config_dict


def client_from_dict_config(config, client=None, clear_global=False):
    """Configures `client` (or a new MetlogClient) from a dict.

    Keys: logger, severity, disabled_timers, filters (list of
    `(provider_dotted_name, kwargs)`), plugins (name -> `(provider, config)`;
    the provider returns the function to bind, see MetlogClient.add_method),
    sender (`class`, `args` and keyword arguments; `sender_*` top-level keys
    are merged in), global (merged into CLIENT_HOLDER.global_config, which
    `clear_global` empties first).
    """
    original = copy.deepcopy(config)
    config = nest_prefixes(copy.deepcopy(config))
    sender_config = dict(config.get('sender', {}))
    logger = config.get('logger', '')
    severity = config.get('severity', 6)
    disabled_timers = config.get('disabled_timers', [])
    filter_specs = config.get('filters', [])
    plugins = config.get('plugins', {})

    from metlog.holder import CLIENT_HOLDER
    if clear_global:
        CLIENT_HOLDER.global_config = {}
    CLIENT_HOLDER.global_config.update(config.get('global', {}))

    sender_class = resolve_name(sender_config.pop('class', DEFAULT_SENDER))
    sender_args = sender_config.pop('args', ())
    sender = sender_class(*sender_args, **sender_config)
    try:
        _SENDERS_MADE_HERE.add(sender)
    except TypeError:  # a sender that cannot be weakly referenced
        pass

    filters = [resolve_name(provider)(**filter_config)
               for provider, filter_config in filter_specs]

    if client is None:
        client = MetlogClient(sender, logger, severity, disabled_timers,
                              filters)
    else:
        previous = client.sender
        client.setup(sender, logger, severity, disabled_timers, filters)
        _close_if_made_here(previous)

    for provider, plugin_config in plugins.values():
        plugin_config = dict(plugin_config)
        override = plugin_config.pop('override', False)
        client.add_method(resolve_name(provider)(plugin_config), override)

    # metlog-py keeps what the client was made from, for debugging.
    client._config = original
    return client


def _close_if_made_here(sender):
    """Closes a sender this module made, without waiting: its thread
    sends what it holds (within its grace) and then releases its socket."""
    try:
        made_here = sender in _SENDERS_MADE_HERE
    except TypeError:
        return
    if made_here and hasattr(sender, 'close'):
        _SENDERS_MADE_HERE.discard(sender)
        sender.close(timeout=0)


def dict_from_stream_config(stream, section):
    """Reads an ini stream into the dict client_from_dict_config takes."""
    # metlog-py's SafeConfigParser: %(name)s interpolation, repeated
    # options allowed.
    parser = configparser.ConfigParser(strict=False)
    parser.read_file(stream)
    client_dict = {opt: _convert(parser.get(section, opt))
                   for opt in parser.options(section)}

    def provider_sections(kind):
        prefix = '%s_%s_' % (section, kind)
        for name in parser.sections():
            if name.startswith(prefix):
                options = {}
                provider = ''
                for opt in parser.options(name):
                    if opt == 'provider':
                        provider = parser.get(name, opt)  # a dotted name
                    else:
                        options[opt] = _convert(parser.get(name, opt))
                yield name[len(prefix):], provider, options

    client_dict['filters'] = [(provider, options) for _, provider, options
                              in provider_sections('filter')]
    client_dict['plugins'] = {name: (provider, options)
                              for name, provider, options
                              in provider_sections('plugin')}
    return nest_prefixes(client_dict)


def client_from_stream_config(stream, section, client=None,
                              clear_global=False):
    """Configures a client from ini read from `stream` (its `section`)."""
    return client_from_dict_config(dict_from_stream_config(stream, section),
                                   client, clear_global)


def client_from_text_config(text, section, client=None, clear_global=False):
    """Configures a client from ini text (dedented first)."""
    return client_from_stream_config(io.StringIO(dedent(text)), section,
                                     client, clear_global)
