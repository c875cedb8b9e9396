"""Datasets: reading tables, versions, profiles, schema inference, validation and diff."""

from sluice.data.anomalies import Anomaly, AnomalyKind, Severity, ValidationReport
from sluice.data.diff import diff_versions
from sluice.data.infer import infer_schema, schema_from_profile
from sluice.data.profile import profile_frame, profile_table
from sluice.data.read import read_arrow, read_table
from sluice.data.schema import ColumnKind, ColumnSchema, Role, Schema
from sluice.data.validate import validate
from sluice.data.versions import (
    DatasetSummary,
    DatasetVersion,
    add_version,
    get_version,
    list_datasets,
    list_versions,
    load_frame,
)

__all__ = [
    "Anomaly",
    "AnomalyKind",
    "ColumnKind",
    "ColumnSchema",
    "DatasetSummary",
    "DatasetVersion",
    "Role",
    "Schema",
    "Severity",
    "ValidationReport",
    "add_version",
    "diff_versions",
    "get_version",
    "infer_schema",
    "list_datasets",
    "list_versions",
    "load_frame",
    "profile_frame",
    "profile_table",
    "read_arrow",
    "read_table",
    "schema_from_profile",
    "validate",
]
