"""Evaluation plots as inline SVG strings (matplotlib, no display needed).

Figures are made with ``matplotlib.figure.Figure`` directly, not pyplot, so no
global backend or state is touched and it is safe inside any process. The SVG
has no date and stable ids, so the same numbers give the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from sluice.models.metrics import Outcome

_STYLE: dict[str, Any] = {"svg.hashsalt": "sluice", "svg.fonttype": "none", "font.size": 9}


def _svg(draw: Callable[[Any], None], size: tuple[float, float] = (5.0, 3.6)) -> str:
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_STYLE):  # type: ignore[arg-type]
        fig = Figure(figsize=size)
        ax = fig.add_subplot()
        draw(ax)
        fig.tight_layout()
        out = io.StringIO()
        fig.savefig(out, format="svg", metadata={"Date": None}, dpi=110)
    return out.getvalue()


def _one_vs_rest(o: Outcome) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(label, is-this-class, probability) per class; only the positive class when binary."""
    assert o.proba is not None and o.classes is not None
    picked = [1] if len(o.classes) == 2 else range(len(o.classes))
    out = []
    for i in picked:
        hits = o.y_true == o.classes[i]
        if 0 < hits.sum() < len(hits):
            out.append((str(o.classes[i]), hits, o.proba[:, i]))
    return out[:10]


def roc_curve_svg(o: Outcome) -> str:
    from sklearn.metrics import auc, roc_curve

    def draw(ax: Any) -> None:
        for label, hits, scores in _one_vs_rest(o):
            fpr, tpr, _ = roc_curve(hits, scores)
            ax.plot(fpr, tpr, label=f"{label} (AUC {auc(fpr, tpr):.3f})")
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=0.8)
        ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC curve")
        ax.legend(loc="lower right", fontsize=7)

    return _svg(draw)


def pr_curve_svg(o: Outcome) -> str:
    from sklearn.metrics import average_precision_score, precision_recall_curve

    def draw(ax: Any) -> None:
        for label, hits, scores in _one_vs_rest(o):
            precision, recall, _ = precision_recall_curve(hits, scores)
            ax.plot(
                recall, precision, label=f"{label} (AP {average_precision_score(hits, scores):.3f})"
            )
        ax.set(xlabel="recall", ylabel="precision", title="Precision-recall curve")
        ax.legend(loc="lower left", fontsize=7)

    return _svg(draw)


def residuals_svg(o: Outcome) -> str:
    def draw(ax: Any) -> None:
        ax.scatter(o.y_pred, o.y_true - o.y_pred, s=4, alpha=0.4, rasterized=True)
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set(xlabel="predicted", ylabel="actual − predicted", title="Residuals")

    return _svg(draw)


def predicted_vs_actual_svg(o: Outcome) -> str:
    def draw(ax: Any) -> None:
        ax.scatter(o.y_true, o.y_pred, s=4, alpha=0.4, rasterized=True)
        low = float(min(np.min(o.y_true), np.min(o.y_pred)))
        high = float(max(np.max(o.y_true), np.max(o.y_pred)))
        ax.plot([low, high], [low, high], linestyle="--", color="grey", linewidth=0.8)
        ax.set(xlabel="actual", ylabel="predicted", title="Predicted vs actual")

    return _svg(draw)


def importance_svg(names: Sequence[str], means: Sequence[float], stds: Sequence[float]) -> str:
    def draw(ax: Any) -> None:
        ys = np.arange(len(names))[::-1]
        ax.barh(ys, means, xerr=stds, color="#4c72b0")
        ax.set_yticks(ys, labels=list(names))
        ax.set(xlabel="drop in score when the column is shuffled", title="Permutation importance")

    return _svg(draw, size=(5.0, 0.9 + 0.28 * max(len(names), 1)))


def learning_curve_svg(
    sizes: Sequence[int], train: Sequence[float], valid: Sequence[float], label: str
) -> str:
    def draw(ax: Any) -> None:
        ax.plot(sizes, train, marker="o", label="training")
        ax.plot(sizes, valid, marker="o", label="cross-validation")
        ax.set(xlabel="training rows", ylabel=label, title="Learning curve")
        ax.legend(fontsize=7)

    return _svg(draw)
