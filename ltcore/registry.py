"""A small name → object registry (as timm registers models) that drives the CLI, UI and tests."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .errors import UnknownNameError


@dataclass(frozen=True)
class Entry:
    """One registered object with the description shown in listings."""

    name: str
    obj: Any
    description: str
    meta: dict = field(default_factory=dict)


class Registry:
    """Maps names to entries; unknown names raise an error that lists the choices."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Entry] = {}

    def register(self, name: str, description: str, **meta) -> Callable[[Any], Any]:
        def decorator(obj):
            self.add(name, obj, description, **meta)
            return obj

        return decorator

    def add(self, name: str, obj: Any, description: str, **meta) -> None:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = Entry(name, obj, description, dict(meta))

    def get(self, name: str) -> Entry:
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}; choose one of: {', '.join(self.names())}"
            ) from None

    def __getitem__(self, name: str) -> Entry:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> list[str]:
        return list(self._entries)

    def entries(self) -> list[Entry]:
        return list(self._entries.values())
