"""Save and load scikit-learn objects with skops: loading runs no arbitrary code.

pickle can execute anything while loading, so a model file from a shared store is
a security hole. skops stores an object tree and rebuilds only types it is told to
trust. We trust scikit-learn, numpy, scipy and sluice's own transformers; anything
else in the file is refused unless the caller says the source is trusted.

One trusted type needs more than trust: a decision tree's node arrays are used
as indices by scikit-learn's compiled code without bounds checks, so a crafted
file could make ``predict`` read outside its memory. Every tree in a loaded model
(forests, gradient boosting, histogram gradient boosting) is therefore checked
for child and feature indices in range before the model is handed out.
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
        obj = sio.loads(data, trusted=allowed)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:
        raise ModelError(
            f"Expected a readable skops model file; loading failed: {exc}. "
            "The file may come from an incompatible scikit-learn or skops version; "
            "retrain the model or install the versions it was saved with."
        ) from exc
    check_trees(obj)
    return obj


def check_trees(obj: Any) -> None:
    """UnsafeArtifact when any tree inside ``obj`` has a child or feature index out of range."""
    for where, problem in _tree_problems(obj, "model", set(), 0):
        raise UnsafeArtifact(
            f"Expected every decision tree in the model to have its node indices in range; "
            f"{where} {problem}. A file like this can crash or misread memory when "
            "predicting, so it is refused; retrain the model from its data."
        )


def _tree_problems(obj: Any, where: str, seen: set[int], depth: int) -> list[tuple[str, str]]:
    import numpy as np

    if depth > 12 or id(obj) in seen or isinstance(obj, str | bytes | int | float | np.ndarray):
        return []
    seen.add(id(obj))
    kind = type(obj).__module__ + "." + type(obj).__qualname__
    if kind == "sklearn.tree._tree.Tree":
        return [(where, p) for p in _bad_tree(obj)]
    if kind.endswith("TreePredictor"):
        return [(where, p) for p in _bad_predictor(obj)]
    if isinstance(obj, dict):
        items = list(obj.items())
    elif isinstance(obj, list | tuple):
        items = list(enumerate(obj))
    elif type(obj).__module__.startswith(("sklearn.", "sluice.")) and hasattr(obj, "__dict__"):
        items = list(vars(obj).items())
    else:
        return []
    found = []
    for key, value in items:
        found += _tree_problems(value, f"{where}.{key}", seen, depth + 1)
    return found


def _bad_tree(tree: Any) -> list[str]:
    import numpy as np

    nodes = int(tree.node_count)
    left, right, feature = tree.children_left, tree.children_right, tree.feature
    leaf = left == -1
    problems = []
    if len(left) != nodes or len(right) != nodes or len(feature) != nodes:
        problems.append(f"has node arrays of lengths other than its {nodes} nodes")
    elif np.any((right == -1) != leaf):
        problems.append("has a node with one child missing")
    elif np.any(~leaf & ((left < 1) | (left >= nodes) | (right < 1) | (right >= nodes))):
        problems.append(f"has a child index outside 1..{nodes - 1}")
    elif np.any(~leaf & ((feature < 0) | (feature >= int(tree.n_features)))):
        problems.append(f"splits on a feature outside 0..{int(tree.n_features) - 1}")
    elif tree.value.shape[0] != nodes:
        problems.append("has a value array that does not match its nodes")
    return problems


def _bad_predictor(predictor: Any) -> list[str]:
    import numpy as np

    nodes = getattr(predictor, "nodes", None)
    if nodes is None or "left" not in (nodes.dtype.names or ()):
        return ["has no node array"]
    n = len(nodes)
    inner = ~nodes["is_leaf"].astype(bool)
    left, right = nodes["left"][inner], nodes["right"][inner]
    if np.any((left < 1) | (left >= n) | (right < 1) | (right >= n)):
        return [f"has a child index outside 1..{n - 1}"]
    if np.any(nodes["feature_idx"][inner] < 0):
        return ["splits on a negative feature index"]
    return []
