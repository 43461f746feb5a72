"""What this package loads only when it is used, so that a cold client stays fast.

A few of its exception classes subclass standard ones whose modules are slow to import
(``multiprocessing.managers``, ``concurrent.futures``, ``multiprocessing``: each costs a fresh
interpreter several milliseconds, more than this whole package), and a program that never
meets those errors should not pay for them. Such a class is made the first time it is named,
through the module's ``__getattr__`` (PEP 562), once, and is the same class afterwards. Logging
is imported by the first message logged, which is rare.
"""

from __future__ import annotations  # annotations left unevaluated: a faster import

import threading

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (about 3 ms where site has not)
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Iterable, List

#: One lock for every module's classes: a maker may need another lazy class (RequestTimeoutError
#: subclasses RequestCancelledError), and two threads must never make two different classes.
_lock = threading.RLock()


def made(namespace: Dict[str, Any], makers: Dict[str, Callable[[], Any]], name: str) -> Any:
    """The module attribute ``name`` of the module whose globals are ``namespace``: made by
    ``makers[name]`` the first time and kept in the module, so it is made once."""
    if name in namespace:
        return namespace[name]
    maker = makers.get(name)
    if maker is None:
        raise AttributeError("module %r has no attribute %r" % (namespace["__name__"], name))
    with _lock:
        if name not in namespace:
            namespace[name] = maker()
        return namespace[name]


def names(namespace: Dict[str, Any], makers: Iterable[str]) -> List[str]:
    """A module's ``dir()``: what it holds and what it makes on first use."""
    return sorted(set(namespace) | set(makers))


def logger(name: str) -> Any:
    """``logging.getLogger(name)``, importing logging only when something is logged."""
    import logging

    return logging.getLogger(name)
