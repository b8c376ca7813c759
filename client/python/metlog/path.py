"""Resolves dotted names from configuration to Python objects."""

import importlib


def resolve_name(dotted_name):
    """The object named `dotted_name`: 'pkg.module.attr' or
    'pkg.module:attr.sub' (the colon marks where the module ends)."""
    if ':' in dotted_name:
        module_name, _, attr_path = dotted_name.partition(':')
        obj = importlib.import_module(module_name)
        for attr in attr_path.split('.') if attr_path else []:
            obj = getattr(obj, attr)
        return obj
    parts = dotted_name.split('.')
    # Import the longest prefix that is a module, then walk attributes.
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module('.'.join(parts[:split]))
        except ImportError:
            continue
        try:
            for attr in parts[split:]:
                obj = getattr(obj, attr)
        except AttributeError as error:
            raise ImportError('cannot resolve %r: %s'
                              % (dotted_name, error)) from error
        return obj
    raise ImportError('cannot resolve %r: no such module' % dotted_name)


class DottedNameResolver:
    """metlog-py's resolver object: resolve(name) is resolve_name(name)."""

    def resolve(self, dotted_name):
        return resolve_name(dotted_name)
