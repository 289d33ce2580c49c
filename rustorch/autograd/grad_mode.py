"""Thread-local grad mode: no_grad / enable_grad / set_grad_enabled.

Each works as a context manager and as a decorator."""

import functools
import threading

_state = threading.local()


def is_grad_enabled() -> bool:
    """True when ops record a backward graph in this thread."""
    try:
        return _state.enabled
    except AttributeError:
        _state.enabled = True
        return True


def _set(flag: bool) -> None:
    _state.enabled = bool(flag)


class _Mode:
    _flag = True

    def __enter__(self):
        self._prev = is_grad_enabled()
        _set(self._flag)
        return None

    def __exit__(self, *exc):
        _set(self._prev)
        return False

    def __call__(self, fn):
        mode = type(self)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with mode():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_Mode):
    """Disable graph recording in this thread: ``with no_grad():`` or ``@no_grad()``."""

    _flag = False

    def __new__(cls, fn=None):
        self = super().__new__(cls)
        if fn is not None and callable(fn):  # bare @no_grad
            return self(fn)
        return self

    def __init__(self, fn=None):
        pass


class enable_grad(_Mode):
    """Re-enable graph recording inside a no_grad block."""

    _flag = True

    def __new__(cls, fn=None):
        self = super().__new__(cls)
        if fn is not None and callable(fn):
            return self(fn)
        return self

    def __init__(self, fn=None):
        pass


class set_grad_enabled(_Mode):
    """``set_grad_enabled(flag)`` sets the mode now; as a context manager it restores on exit."""

    def __init__(self, mode: bool):
        self._prev = is_grad_enabled()
        self._flag = bool(mode)
        _set(self._flag)

    def __enter__(self):
        return None

    def __call__(self, fn):
        _set(self._prev)
        flag = self._flag

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(flag):
                return fn(*args, **kwargs)

        return wrapper
