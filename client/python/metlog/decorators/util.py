"""Names for decorated callables."""


def return_fq_name(func, klass=None):
    """'module.function' for a function, a readable stand-in otherwise (the
    class is not known yet when a decorator runs)."""
    if klass is not None:
        return '%s.%s.PyCallable' % (klass.__module__, klass.__name__)
    func_name = getattr(func, '__name__', None)
    if func_name:
        return '%s.%s' % (getattr(func, '__module__', None), func_name)
    name = str(func)
    if name.startswith('<') and name.endswith('>'):
        name = name[1:-1]
    return name
