"""``Remembered``: the bounded, thread-safe memory behind every cache of the package (query vectors and
result lists in ``retrieval``; stemmed query words, term counts and scored postings in the stores)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any


class Remembered:
    """The most recently used values by key, up to ``size`` in all; least recently used go first.

    Each value counts ``weigh(value)`` against ``size`` (1 by default); a value heavier than ``size`` is
    returned but not kept. Thread-safe; ``compute`` runs outside the lock. Size 0 keeps nothing."""

    def __init__(self, size: int, weigh: Callable[[Any], int] | None = None) -> None:
        self.size = size
        self._weigh = weigh or (lambda _: 1)
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()

    def through(self, keys: Sequence[Any], compute: Callable[[list[Any]], Sequence[Any]]) -> list[Any]:
        """The value of each key: remembered ones from memory, the rest from one ``compute(missing keys)``
        call (then remembered)."""
        if not self.size:
            return list(compute(list(keys))) if keys else []
        with self._lock:
            out = [self._items.get(key) for key in keys]
            for key, value in zip(keys, out):
                if value is not None:
                    self._items.move_to_end(key)
        missing = [i for i, value in enumerate(out) if value is None]
        if missing:
            fresh = compute([keys[i] for i in missing])
            with self._lock:
                for i, value in zip(missing, fresh):
                    out[i] = value
                    weight = self._weigh(value)
                    if keys[i] in self._items or weight > self.size:
                        continue
                    self._items[keys[i]] = value
                    self._held += weight
                while self._held > self.size:
                    _, old = self._items.popitem(last=False)
                    self._held -= self._weigh(old)
        return out

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._held = 0

    def __contains__(self, key: Any) -> bool:
        with self._lock:
            return key in self._items

    def __len__(self) -> int:
        """The weight held (the number of values, when each weighs 1)."""
        return self._held
