"""Changed copies of frozen values, fast: the sign path makes a few per signature.

`dataclasses.replace` calls `__init__` again (every field, every default, `__post_init__`);
these copy the instance dictionary, which is all a frozen dataclass without slots holds.
The values copied here are ones whose `__init__` checks nothing.
"""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")


def changed(value: T, **changes: Any) -> T:
    """`value` with `changes`, as `dataclasses.replace` would give it."""
    copy = object.__new__(type(value))
    fields = copy.__dict__
    fields.update(value.__dict__)
    fields.update(changes)
    return copy
