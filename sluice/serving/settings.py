"""How a model server runs: one frozen value, checked once, passed to every part.

Workers started by uvicorn (``--workers N``) are fresh processes that only get an
import string; they read these settings back from one environment variable as JSON.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from typing import Any

from sluice.errors import ConfigError

ENV_VAR = "SLUICE_SERVE_SETTINGS"
UNKNOWN_CATEGORY_MODES = ("reject", "flag")


@dataclass(frozen=True)
class ServeSettings:
    """What to serve and how.

    ``uri``: the model, usually by alias (``models:/bike-demand@champion``) so a reload
    can follow the alias. ``unknown_categories``: ``reject`` a category the model never
    saw (422) or ``flag`` it (predict, and note it in the response and the log).
    ``poll``: seconds between re-resolving the alias (None: only ``POST /admin/reload``).
    ``max_batch_rows`` and ``max_wait_ms`` bound the micro-batcher; ``max_records``
    bounds one request. ``log_predictions`` writes every prediction to the prediction log.
    """

    uri: str
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    unknown_categories: str = "reject"
    poll: float | None = None
    flush_interval: float = 1.0
    max_batch_rows: int = 256
    max_wait_ms: float = 2.0
    max_records: int = 10_000
    log_predictions: bool = True
    access_log: bool = False
    trusted: bool = False

    def __post_init__(self) -> None:
        if self.unknown_categories not in UNKNOWN_CATEGORY_MODES:
            raise ConfigError(
                "Expected --unknown-categories to be reject or flag; got "
                f"{self.unknown_categories!r}. Use reject to refuse unseen categories with a 422, "
                "flag to predict and mark them."
            )
        _positive("--port", self.port, allow_zero=True)
        _positive("--workers", self.workers)
        _positive("--max-batch-rows", self.max_batch_rows)
        _positive("--max-records", self.max_records)
        _positive("--flush-interval", self.flush_interval)
        if self.poll is not None:
            _positive("--poll", self.poll)
        if self.max_wait_ms < 0:
            raise ConfigError(
                f"Expected --max-wait-ms to be 0 or more; got {self.max_wait_ms}. "
                "Use 0 to never wait for more requests before predicting."
            )

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> ServeSettings:
        """The settings a parent ``sluice serve`` left for its workers."""
        raw = os.environ.get(ENV_VAR)
        if not raw:
            raise ConfigError(
                f"Expected the environment variable {ENV_VAR} to hold the server settings; it "
                "is not set. Start workers with `sluice serve ... --workers N`."
            )
        data: dict[str, Any] = json.loads(raw)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def _positive(option: str, value: float, *, allow_zero: bool = False) -> None:
    if value < 0 or (value == 0 and not allow_zero):
        at_least = "0 or more" if allow_zero else "more than 0"
        raise ConfigError(f"Expected {option} to be {at_least}; got {value}.")
