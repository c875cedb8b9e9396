"""Preprocessing built from a schema, so a saved model applies it to raw rows.

One branch per column kind: numbers are imputed (median) and scaled; categories
become strings, then one-hot columns with unseen values ignored and rare ones
grouped; booleans become 0/1; datetimes become calendar features. Columns whose
role says a model must not see them (id, constant, ignored, target) are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sluice.errors import ModelError
from sluice.models.types import SchemaLike

USABLE_ROLES = frozenset({"feature", "time"})


@dataclass(frozen=True)
class FeatureSettings:
    """How categories are encoded.

    ``min_frequency``: a category seen in fewer than this share of rows is grouped
    with the other rare ones. ``max_categories``: at most this many one-hot
    columns per categorical column (the rest go to the rare group).
    """

    min_frequency: float = 0.01
    max_categories: int = 30


def columns_by_kind(schema: SchemaLike) -> dict[str, list[str]]:
    """Feature column names per kind (numeric, categorical, boolean, datetime).

    Text columns are left out: free text needs its own featurization.
    """
    groups: dict[str, list[str]] = {"numeric": [], "categorical": [], "boolean": [], "datetime": []}
    for col in schema.columns:
        role, kind = str(_value(col.role)), str(_value(col.kind))
        kind = "datetime" if role == "time" else kind  # a time column may be read as text
        if role in USABLE_ROLES and col.name != schema.target and kind in groups:
            groups[kind].append(col.name)
    return groups


def _value(member: Any) -> Any:
    return getattr(member, "value", member)


def build_preprocessor(schema: SchemaLike, settings: FeatureSettings | None = None) -> Any:
    """A ColumnTransformer turning raw feature columns into a numeric matrix."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from sluice.models.transformers import BooleanToFloat, CategoryStrings, DatetimeFeatures

    settings = settings or FeatureSettings()
    groups = columns_by_kind(schema)
    if not any(groups.values()):
        raise ModelError(
            "Expected at least one feature column (numeric, categorical, boolean or datetime); "
            "the schema has none left after dropping id, constant, ignored and target columns. "
            "Add feature columns to the data or change the roles in sluice.yaml."
        )

    def numeric_tail() -> list[tuple[str, Any]]:
        return [
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("scale", StandardScaler()),
        ]

    onehot = OneHotEncoder(
        handle_unknown="infrequent_if_exist",
        min_frequency=settings.min_frequency,
        max_categories=settings.max_categories,
        sparse_output=False,
    )
    branches = {
        "numeric": Pipeline(numeric_tail()),
        "categorical": Pipeline([("strings", CategoryStrings()), ("onehot", onehot)]),
        "boolean": Pipeline(
            [
                ("to_float", BooleanToFloat()),
                ("impute", SimpleImputer(strategy="most_frequent", keep_empty_features=True)),
            ]
        ),
        "datetime": Pipeline([("calendar", DatetimeFeatures()), *numeric_tail()]),
    }
    transformers = [(kind, branches[kind], cols) for kind, cols in groups.items() if cols]
    return ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=True)


def build_model(schema: SchemaLike, estimator: Any, settings: FeatureSettings | None = None) -> Any:
    """``Pipeline(preprocess, model)``: one object that takes raw rows and predicts."""
    from sklearn.pipeline import Pipeline

    return Pipeline([("preprocess", build_preprocessor(schema, settings)), ("model", estimator)])
