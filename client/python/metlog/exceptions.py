"""Errors raised while reading a Metlog configuration."""

from configparser import Error


class EnvironmentNotFoundError(Error):
    """A ${VAR} in the configuration names an unset environment variable."""

    def __init__(self, varname):
        Error.__init__(self, 'Variable not found %r' % varname)
        self.varname = varname


class MethodNotFoundError(Error):
    """A configured plugin or method could not be found."""
