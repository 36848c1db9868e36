"""One small bounded cache type for everything the core keeps in memory.

Each cache holds at most `limit` entries; past it the oldest written goes, so a burst of new
keys (a stranger asking for ten thousand slugs) costs memory in proportion to the limit, never
to the burst, and the entries still in use stay.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar, overload

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
D = TypeVar("D")


class Bounded(Generic[K, V]):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: dict[K, V] = {}

    @overload
    def get(self, key: K) -> V | None: ...
    @overload
    def get(self, key: K, default: D) -> V | D: ...
    def get(self, key: K, default: object = None) -> object:
        return self._items.get(key, default)

    def __getitem__(self, key: K) -> V:
        return self._items[key]

    def __setitem__(self, key: K, value: V) -> None:
        self._items.pop(key, None)  # rewritten: now the newest
        self._items[key] = value
        while len(self._items) > self.limit:
            del self._items[next(iter(self._items))]

    def pop(self, key: K, default: V | None = None) -> V | None:
        return self._items.pop(key, default)

    def add(self: Bounded[K, bool], key: K) -> None:
        """As a set: remember `key`."""
        self[key] = True

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[K]:
        return iter(self._items)

    def clear(self) -> None:
        self._items.clear()
