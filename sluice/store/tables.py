"""The metadata store's tables (SQLAlchemy Core).

Times are Unix seconds (float, UTC). Identifiers of runs are 32-character hex
strings made by the client, so that writers can batch without round trips.
Every change here needs a migration under ``migrations/versions``;
``tests/store/test_migrations.py`` fails when the two disagree.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Id = sa.String(32)

projects = sa.Table(
    "projects",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("objective", sa.Text, nullable=False, default=""),
    sa.Column("metric", sa.String(100)),
    sa.Column("target", sa.String(200)),
    sa.Column("owner", sa.String(200)),
    sa.Column("stage", sa.String(20), nullable=False, default="framing"),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("model_name", sa.String(200), nullable=True),  # the model it delivers
    sa.Column("dataset_name", sa.String(200), nullable=True),  # the data it learns from
    sa.Column("policy", sa.JSON, nullable=True),  # approvals for protected aliases
)

# -- artifacts ---------------------------------------------------------------

artifacts = sa.Table(
    "artifacts",
    metadata,
    sa.Column("hash", sa.String(64), primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("media_type", sa.String(100), nullable=False),
    sa.Column("materializer", sa.String(100), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

# -- datasets ----------------------------------------------------------------

datasets = sa.Table(
    "datasets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("created_at", sa.Float, nullable=False),
)

dataset_versions = sa.Table(
    "dataset_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("artifact_hash", sa.String(64), sa.ForeignKey("artifacts.hash")),
    sa.Column("source_uri", sa.Text, nullable=False),
    sa.Column("format", sa.String(20), nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("n_rows", sa.BigInteger, nullable=False),
    sa.Column("n_cols", sa.Integer, nullable=False),
    sa.Column("schema", sa.JSON, nullable=False),
    sa.Column("profile", sa.JSON, nullable=False),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("dataset_versions.id")),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("dataset_id", "version"),
    sa.UniqueConstraint("dataset_id", "content_hash"),
)

# -- pipelines ---------------------------------------------------------------

pipeline_runs = sa.Table(
    "pipeline_runs",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("pipeline", sa.String(200), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("executor", sa.String(50), nullable=False, default="local"),
    sa.Column("resumed_from", Id, sa.ForeignKey("pipeline_runs.id")),
    sa.Column("error", sa.Text),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("started_at", sa.Float),
    sa.Column("finished_at", sa.Float),
    sa.Index("ix_pipeline_runs_created_at", "created_at"),
)

step_runs = sa.Table(
    "step_runs",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("pipeline_run_id", Id, sa.ForeignKey("pipeline_runs.id"), nullable=False, index=True),
    sa.Column("step", sa.String(200), nullable=False),
    sa.Column("cache_key", sa.String(64), nullable=False, index=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("cached_from", Id, sa.ForeignKey("step_runs.id")),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("host", sa.String(200)),
    sa.Column("error", sa.Text),
    sa.Column("log", sa.Text),
    sa.Column("started_at", sa.Float),
    sa.Column("finished_at", sa.Float),
    sa.Column("duration", sa.Float),
)

step_io = sa.Table(
    "step_io",
    metadata,
    sa.Column("step_run_id", Id, sa.ForeignKey("step_runs.id"), primary_key=True),
    sa.Column("direction", sa.String(6), primary_key=True),  # "input" | "output"
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("artifact_hash", sa.String(64), sa.ForeignKey("artifacts.hash"), nullable=False),
    sa.Index("ix_step_io_artifact", "artifact_hash"),
)

# -- tracking ----------------------------------------------------------------

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("name", sa.String(200)),
    sa.Column("experiment", sa.String(200), nullable=False, default="default", index=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("parent_id", Id, sa.ForeignKey("runs.id")),
    sa.Column("pipeline_run_id", Id, sa.ForeignKey("pipeline_runs.id")),
    sa.Column("step_run_id", Id, sa.ForeignKey("step_runs.id")),
    sa.Column("start_time", sa.Float, nullable=False),
    sa.Column("end_time", sa.Float),
)

params = sa.Table(
    "params",
    metadata,
    sa.Column("run_id", Id, sa.ForeignKey("runs.id"), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

metrics = sa.Table(
    "metrics",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("run_id", Id, sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("key", sa.String(250), nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("step", sa.BigInteger, nullable=False, default=0),
    sa.Column("timestamp", sa.Float, nullable=False),
    sa.Index("ix_metrics_run_key", "run_id", "key"),
)

tags = sa.Table(
    "tags",
    metadata,
    sa.Column("run_id", Id, sa.ForeignKey("runs.id"), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# -- registry ----------------------------------------------------------------

registered_models = sa.Table(
    "registered_models",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("created_at", sa.Float, nullable=False),
)

model_versions = sa.Table(
    "model_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("model_id", sa.Integer, sa.ForeignKey("registered_models.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("artifact_hash", sa.String(64), sa.ForeignKey("artifacts.hash"), nullable=False),
    sa.Column("flavor", sa.String(50), nullable=False),
    sa.Column("signature", sa.JSON, nullable=False),
    sa.Column("dataset_version_id", sa.Integer, sa.ForeignKey("dataset_versions.id")),
    sa.Column("pipeline_run_id", Id, sa.ForeignKey("pipeline_runs.id")),
    sa.Column("run_id", Id, sa.ForeignKey("runs.id")),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("metrics", sa.JSON, nullable=False),
    sa.Column("environment", sa.JSON, nullable=False),
    sa.Column("git_commit", sa.String(40)),
    sa.Column("git_dirty", sa.Boolean),
    sa.Column("seed", sa.Integer),
    sa.Column("duration", sa.Float),
    sa.Column("card_hash", sa.String(64), sa.ForeignKey("artifacts.hash")),
    sa.Column("extra", sa.JSON, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("model_id", "version"),
)

model_aliases = sa.Table(
    "model_aliases",
    metadata,
    sa.Column("model_id", sa.Integer, sa.ForeignKey("registered_models.id"), primary_key=True),
    sa.Column("alias", sa.String(100), primary_key=True),
    sa.Column("version_id", sa.Integer, sa.ForeignKey("model_versions.id"), nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

# -- gates -------------------------------------------------------------------

gate_results = sa.Table(
    "gate_results",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("pipeline_run_id", Id, sa.ForeignKey("pipeline_runs.id"), index=True),
    sa.Column("model_version_id", sa.Integer, sa.ForeignKey("model_versions.id")),
    sa.Column("gate", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(50), nullable=False),
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("observed", sa.Float),
    sa.Column("threshold", sa.Float),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

# -- prediction log ------------------------------------------------------------
# The rows themselves are Parquet segments in the artifact store; this index
# finds the segments of one model and kind (predictions or feedback) by time.

log_segments = sa.Table(
    "log_segments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),  # predictions | feedback
    sa.Column("model_name", sa.String(200), nullable=False),
    sa.Column("model_version", sa.Integer),  # None when one segment spans versions
    sa.Column("artifact_hash", sa.String(64), sa.ForeignKey("artifacts.hash"), nullable=False),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("start_time", sa.Float, nullable=False),
    sa.Column("end_time", sa.Float, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Index("ix_log_segments_lookup", "kind", "model_name", "end_time"),
)

# -- monitors --------------------------------------------------------------------

monitors = sa.Table(
    "monitors",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("model_name", sa.String(200), nullable=False),
    sa.Column("alias", sa.String(100), nullable=False),
    sa.Column("window", sa.String(50), nullable=False),  # "1d", "6h", "10000rows"
    sa.Column("reference_version_id", sa.Integer, sa.ForeignKey("dataset_versions.id")),
    sa.Column("settings", sa.JSON, nullable=False),  # drift settings and alert thresholds
    sa.Column("actions", sa.JSON, nullable=False),  # what an alert does
    sa.Column("cursor", sa.Float),  # end of the last window evaluated
    sa.Column("created_at", sa.Float, nullable=False),
)

monitor_results = sa.Table(
    "monitor_results",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("monitor_id", sa.Integer, sa.ForeignKey("monitors.id"), nullable=False),
    sa.Column("model_version", sa.Integer),
    sa.Column("window_start", sa.Float, nullable=False),
    sa.Column("window_end", sa.Float, nullable=False),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # ok | drift | decay | insufficient
    sa.Column("summary", sa.JSON, nullable=False),
    sa.Column("report_hash", sa.String(64), sa.ForeignKey("artifacts.hash")),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Index("ix_monitor_results_monitor", "monitor_id", "window_end"),
)

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("monitor_id", sa.Integer, sa.ForeignKey("monitors.id"), nullable=False),
    sa.Column("result_id", sa.Integer, sa.ForeignKey("monitor_results.id"), nullable=False),
    sa.Column("kind", sa.String(50), nullable=False),  # data_drift | prediction_drift | ...
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("actions", sa.JSON, nullable=False),  # each action taken and its outcome
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Index("ix_alerts_monitor", "monitor_id", "created_at"),
)

# The audit trail: append-only, each event chained to the one before by its hash.
# Only sluice.store.audit writes here, and it offers no update or delete.
audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),  # 1, 2, 3, ...
    sa.Column("ts_us", sa.BigInteger, nullable=False),  # Unix microseconds, UTC
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(100), nullable=False),  # e.g. model.alias_moved
    sa.Column("target", sa.String(500), nullable=False),  # e.g. models:/bike-demand@champion
    sa.Column("before", sa.Text, nullable=True),  # canonical JSON, hashed as stored
    sa.Column("after", sa.Text, nullable=True),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False, unique=True),
    sa.Index("ix_audit_events_target", "target", "seq"),
    sa.Index("ix_audit_events_actor", "actor", "seq"),
    sa.Index("ix_audit_events_ts", "ts_us"),
)

# The chain's head (one row): deleting events at the end shows as a head that no
# longer matches the last event.
audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),  # always 1
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("role", sa.String(20), nullable=False),  # viewer | scientist | engineer | ...
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

# API tokens: only a SHA-256 of each is kept (the token is shown once, when made).
tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("label", sa.String(100), nullable=False),
    sa.Column("prefix", sa.String(16), nullable=False),  # shown in listings: slc_ab12cd34
    sa.Column("hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=True),
    sa.Column("revoked_at", sa.Float, nullable=True),
    sa.Column("last_used_at", sa.Float, nullable=True),
    sa.Index("ix_tokens_user", "user_id"),
)

# Approval requests: moving a protected alias (production) needs reviews by others.
approval_requests = sa.Table(
    "approval_requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("model_id", sa.Integer, sa.ForeignKey("registered_models.id"), nullable=False),
    sa.Column("version_id", sa.Integer, sa.ForeignKey("model_versions.id"), nullable=False),
    sa.Column("alias", sa.String(100), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("requester", sa.String(200), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # open | approved | rejected | closed
    sa.Column("closed_reason", sa.Text, nullable=True),
    sa.Column("approvals_needed", sa.Integer, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("decided_at", sa.Float, nullable=True),
    sa.Index("ix_approval_requests_open", "status", "model_id", "alias"),
)

reviews = sa.Table(
    "reviews",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("request_id", sa.Integer, sa.ForeignKey("approval_requests.id"), nullable=False),
    sa.Column("reviewer", sa.String(200), nullable=False),
    sa.Column("decision", sa.String(20), nullable=False),  # approve | reject | comment
    sa.Column("comment", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Index("ix_reviews_request", "request_id"),
)
