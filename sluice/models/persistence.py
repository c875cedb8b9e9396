"""Save and load scikit-learn objects with skops: loading runs no arbitrary code.

pickle can execute anything while loading, so a model file from a shared store is
a security hole. skops stores an object tree and rebuilds only types it is told to
trust. We trust scikit-learn, numpy, scipy and sluice's own transformers; anything
else in the file is refused unless the caller says the source is trusted.
"""

from __future__ import annotations

import zipfile
from typing import Any

from sluice.errors import ModelError, UnsafeArtifact

#: Type names starting with one of these are trusted when loading.
TRUSTED_PREFIXES: tuple[str, ...] = (
    "sklearn.",
    "numpy.",
    "scipy.",
    "sluice.models.transformers.",
)


def dumps(obj: Any) -> bytes:
    """The skops bytes of ``obj`` (zip-deflated: tree models shrink several times)."""
    import skops.io as sio

    try:
        return sio.dumps(obj, compression=zipfile.ZIP_DEFLATED)
    except (TypeError, ValueError, AttributeError) as exc:
        raise ModelError(
            f"Expected an object skops can save (scikit-learn, numpy, scipy); got "
            f"{type(obj).__name__}: {exc}. Save other objects with their own materializer."
        ) from exc


def untrusted_types(data: bytes) -> list[str]:
    """Type names in ``data`` that are outside the allow-list, sorted."""
    import skops.io as sio

    try:
        names = sio.get_untrusted_types(data=data)
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ModelError(
            f"Expected a skops model file; got {len(data)} bytes that are not one ({exc}). "
            "Check that the artifact is a model saved by sluice."
        ) from exc
    return sorted(n for n in names if not n.startswith(TRUSTED_PREFIXES))


def loads(data: bytes, *, trusted: bool = False) -> Any:
    """Rebuild an object saved by :func:`dumps`, refusing types outside the allow-list.

    ``trusted=True`` loads every type in the file; pass it only for a file you made
    or whose source you trust.
    """
    import skops.io as sio

    foreign = untrusted_types(data)
    if foreign and not trusted:
        raise UnsafeArtifact(
            "Expected a model made only of scikit-learn, numpy, scipy and sluice types; "
            f"got untrusted types: {', '.join(foreign)}. Loading them could run code. "
            "Pass trusted=True only if you trust the source of this model."
        )
    allowed = sio.get_untrusted_types(data=data)
    try:
        return sio.loads(data, trusted=allowed)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:
        raise ModelError(
            f"Expected a readable skops model file; loading failed: {exc}. "
            "The file may come from an incompatible scikit-learn or skops version; "
            "retrain the model or install the versions it was saved with."
        ) from exc
