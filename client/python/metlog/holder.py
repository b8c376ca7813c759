"""A process-wide registry of MetlogClients by name, plus global config
(e.g. `disabled_decorators`) shared by all of them."""

import threading

from metlog.client import MetlogClient


class MetlogClientHolder:
    """Holds MetlogClient instances by name; the first one is the default.
    Use the module's CLIENT_HOLDER singleton."""

    def __init__(self):
        self._clients = {}
        self.global_config = {}
        self.lock = threading.Lock()

    def get_client(self, name):
        """The client called `name`, created (without a working sender)
        when it does not exist yet; `name` is its default logger."""
        client = self._clients.get(name)
        if client is None:
            with self.lock:
                client = self._clients.get(name)
                if client is None:
                    client = MetlogClient(sender=None, logger=name)
                    if not self._clients and not self.global_config.get(
                            'default'):
                        self.global_config['default'] = name
                    self._clients[name] = client
        return client

    def set_client(self, name, client):
        """Stores an existing client under `name`."""
        with self.lock:
            self._clients[name] = client
            if len(self._clients) == 1:
                self.global_config['default'] = name

    def set_default_client_name(self, name):
        self.global_config['default'] = name

    @property
    def default_client(self):
        """The client named by global_config['default'], or None."""
        name = self.global_config.get('default')
        return None if name is None else self.get_client(name)

    def delete_client(self, name):
        with self.lock:
            self._clients.pop(name, None)
            if self.global_config.get('default') == name:
                del self.global_config['default']


CLIENT_HOLDER = MetlogClientHolder()


def get_client(name, config_dict=None):
    """The client `name` from CLIENT_HOLDER, configured with `config_dict`
    when one is given (its `logger` must be `name` or absent)."""
    client = CLIENT_HOLDER.get_client(name)
    if config_dict:
        logger = config_dict.get('logger')
        if logger and logger != name:
            raise ValueError('Config `logger` value must either match `name` '
                             'argument or be left blank.')
        if not logger:
            config_dict = dict(config_dict, logger=name)
        from metlog.config import client_from_dict_config
        client = client_from_dict_config(config_dict, client=client)
    return client
