"""Process-wide memos shared by every browser session: a value is computed once per key (and at
most once per `ttl` seconds), so 30 sessions watching the same run do one store read and one
figure build between them. Values are shared objects: callers must not mutate them."""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Hashable

_ALL: list["Memo"] = []


class Memo:
    """`get(key, compute)`: the value computed for `key` less than `ttl` seconds ago (None: for
    ever), else `compute()`; concurrent callers of one key wait for a single computation."""

    def __init__(self, ttl: float | None = None, max_entries: int = 256):
        self.ttl, self.max_entries = ttl, max_entries
        self._items: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._computing: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()
        _ALL.append(self)

    def _fresh(self, key: Hashable) -> tuple[bool, Any]:
        hit = self._items.get(key)
        if hit is None or (self.ttl is not None and time.monotonic() - hit[0] >= self.ttl):
            return False, None
        self._items.move_to_end(key)
        return True, hit[1]

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._lock:
            found, value = self._fresh(key)
            if found:
                return value
            key_lock = self._computing.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                found, value = self._fresh(key)  # another session computed it while this one waited
            if found:
                return value
            started = time.monotonic()
            value = compute()
            with self._lock:
                self._items[key] = (started, value)
                self._items.move_to_end(key)
                while len(self._items) > self.max_entries:
                    self._items.popitem(last=False)
                self._computing.pop(key, None)
        return value

    def peek(self, key: Hashable) -> tuple[bool, Any]:
        """(True, value) when `key` holds a fresh value, else (False, None); computes nothing."""
        with self._lock:
            return self._fresh(key)

    def forget(self, *keys: Hashable) -> None:
        """Drop keys so the next `get` computes them again (after this process changed them)."""
        with self._lock:
            for key in keys:
                self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def clear_all() -> None:
    """Forget every memo of this process (tests; a store switched under the server)."""
    for memo in _ALL:
        memo.clear()
