"""Small in-memory caches of computed pages, one per application and per name.

Each cache is keyed by a fingerprint of ALL the inputs of what it holds, read from the
database on every request (see the callers: audit/fund_use/report_cache.py,
audit/workbooks/indicators_cache.py): nothing expires, a changed input gives another key.
Kept in `app.extensions`, so that a test application never sees another one's entries.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from flask import Flask, current_app

_PREFIX = "memo:"


class MemoryCache:
    """Least-recently-used entries, safe across the threads of one worker."""

    def __init__(self, max_entries: int):
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple) -> Any | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
                self.hits += 1
            else:
                self.misses += 1
            return value

    def put(self, key: tuple, value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def app_cache(name: str, max_entries: int) -> MemoryCache:
    """The application's cache called `name` (created on first use)."""
    return current_app.extensions.setdefault(_PREFIX + name, MemoryCache(max_entries))


def clear_all(app: Flask) -> None:
    """Empty every cache of `app` (benchmarks of the cold path, query-count tests)."""
    for key, value in app.extensions.items():
        if key.startswith(_PREFIX) and isinstance(value, MemoryCache):
            value.clear()
