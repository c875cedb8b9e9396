"""``sluice demo``: the main job on the bundled UCI bike-sharing hourly data.

The data ships inside the package (read through importlib.resources, never from
a checkout's neighbours), the configuration is ``bike_demand.yaml`` next to this
module. The model is trained on 2011 only: the demo folder gets the 2011 rows as
a CSV file and a ``sluice.yaml`` that points at it, so ``SLUICE_HOME=DIR sluice
run DIR/sluice.yaml`` repeats the run by hand. 2012 is what production brings
(see :mod:`sluice.templates.tabular.lifecycle`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from sluice.templates.tabular.pipeline import JobResult, run_job

DATA = ("datasets", "bike_sharing_hour.csv.gz")
CONFIG = "bike_demand.yaml"
TRAINING_FILE = "bike_sharing_2011.csv"


def demo_config(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The demo's configuration as a mapping, pointing at the bundled data."""
    import yaml

    raw = yaml.safe_load(resources.files(__package__).joinpath(CONFIG).read_text("utf-8"))
    raw["data"]["path"] = str(bundled_data())
    return _merge(raw, overrides or {})


def bundled_data() -> Path:
    """The bundled CSV's path (the package is installed as files, never zipped).

    Anchored on this package, which is a regular one: ``sluice.datasets`` has no
    ``__init__.py``, and an editable install can make ``sluice`` itself a
    namespace package whose resources importlib cannot list.
    """
    package = Path(str(resources.files(__package__)))
    return package.parents[1].joinpath(*DATA)


def run_demo(
    home: str | Path,
    *,
    on_event: Callable[[Any], Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> JobResult:
    """Run the main job on the bike data in ``home`` (store, artifacts, reports, sluice.yaml)."""
    import yaml

    from sluice.templates.tabular.config import parse_config
    from sluice.workspace import Workspace

    folder = Path(home).absolute()
    folder.mkdir(parents=True, exist_ok=True)
    raw = demo_config(overrides)
    raw["data"]["path"] = str(write_training_data(folder))
    config = parse_config(raw)
    target = folder / "sluice.yaml"
    target.write_text(
        "# Written by `sluice demo`; run it again with "
        f"SLUICE_HOME={folder} sluice run {target}\n"
        + yaml.safe_dump(raw, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    ws = Workspace.at(folder)
    try:
        return run_job(ws, config, on_event=on_event)
    finally:
        ws.close()


def write_training_data(folder: Path) -> Path:
    """The bundled data's 2011 rows as a CSV file in ``folder`` (the same bytes every time,
    so a second demo finds the same dataset version and its cache)."""
    import pandas as pd

    frame = pd.read_csv(bundled_data())
    target = folder / TRAINING_FILE
    text = frame[frame["yr"] == 0].to_csv(index=False, lineterminator="\n")
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        tmp = target.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
    return target


def _merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out
