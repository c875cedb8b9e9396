"""Plain JSON values for step outputs: what the JSON materializer and the summary accept."""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import Enum
from typing import Any


def plain(value: Any) -> Any:
    """Numpy scalars become numbers, enums their value, NaN and infinities None, tuples lists."""
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [plain(v) for v in items]
    if hasattr(value, "to_dict"):
        return plain(value.to_dict())
    if hasattr(value, "item"):
        return plain(value.item())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
