"""The prediction log against a real store: written off the caller's path, read back by window."""

from __future__ import annotations

import shutil
import threading
import time

import numpy as np
import pandas as pd
import pytest

from sluice.errors import PredictionLogError
from sluice.predictions import (
    PredictionLog,
    count_predictions,
    read_feedback,
    read_labelled,
    read_predictions,
)
from sluice.workspace import Workspace


def _inputs(n: int, start: int = 0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "temp": np.linspace(0.1, 0.9, n) + start,
            "season": [f"s{(start + i) % 4}" for i in range(n)],
            "prediction": np.arange(n) + 1000,  # a feature may be named like a log column
        }
    )


def _ids(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i:030d}"[:32] for i in range(n)]


def test_rows_come_back_with_their_inputs_outputs_and_version(ws: Workspace) -> None:
    with PredictionLog(ws, "bikes", flush_interval=60) as log:
        log.append(
            _inputs(3),
            request_ids=_ids("a", 3),
            model_version=2,
            predictions=np.array([1.5, 2.5, 3.5]),
            timestamp=100.0,
        )
        assert log.pending == 3
        log.flush()
        assert log.pending == 0 and log.written == 3

    window = read_predictions(ws, "bikes")
    assert len(window) == 3
    assert list(window.inputs.columns) == ["temp", "season", "prediction"]
    assert window.inputs["prediction"].tolist() == [1000, 1001, 1002]
    assert window.meta["prediction"].tolist() == [1.5, 2.5, 3.5]
    assert window.meta["model_version"].tolist() == [2, 2, 2]
    assert window.meta["request_id"].tolist() == _ids("a", 3)
    assert count_predictions(ws, "bikes") == 3
    assert count_predictions(ws, "other-model") == 0


def test_classifier_probabilities_are_kept_per_class(ws: Workspace) -> None:
    with PredictionLog(ws, "churn") as log:
        log.append(
            _inputs(2),
            request_ids=_ids("c", 2),
            model_version=1,
            predictions=np.array(["yes", "no"], dtype=object),
            probabilities=np.array([[0.2, 0.8], [0.9, 0.1]]),
            classes=["no", "yes"],
        )
    meta = read_predictions(ws, "churn").meta
    assert meta["prediction"].tolist() == ["yes", "no"]
    assert meta["proba:yes"].tolist() == [0.8, 0.1]
    assert meta["proba:no"].tolist() == [0.2, 0.9]


def test_windows_by_time_by_version_and_by_row_count(ws: Workspace) -> None:
    with PredictionLog(ws, "bikes", flush_interval=60) as log:
        for i in range(5):
            log.append(
                _inputs(2, start=i),
                request_ids=_ids(f"r{i}", 2),
                model_version=1 if i < 3 else 2,
                predictions=np.array([i, i], dtype=float),
                timestamp=1000.0 + i * 10,
            )
            log.flush()  # one segment per batch, so windows cross segments
    assert log.segments == 5

    window = read_predictions(ws, "bikes", start=1010.0, end=1030.0)
    assert window.meta["timestamp"].tolist() == [1010.0, 1010.0, 1020.0, 1020.0]
    assert read_predictions(ws, "bikes", version=2).meta["prediction"].tolist() == [3, 3, 4, 4]
    first = read_predictions(ws, "bikes", start=1005.0, limit=3)
    assert first.meta["timestamp"].tolist() == [1010.0, 1010.0, 1020.0]
    assert len(read_predictions(ws, "bikes", start=2000.0)) == 0


def test_an_empty_log_reads_as_an_empty_window(ws: Workspace) -> None:
    window = read_predictions(ws, "nothing-yet")
    assert len(window) == 0 and window.start is None
    assert list(window.meta.columns)[:2] == ["request_id", "timestamp"]
    assert len(read_labelled(ws, "nothing-yet")) == 0
    assert read_feedback(ws, "nothing-yet").empty


def test_feedback_joins_by_request_id_whenever_it_arrives(ws: Workspace) -> None:
    ids = _ids("f", 4)
    with PredictionLog(ws, "bikes") as log:
        log.append(
            _inputs(4),
            request_ids=ids,
            model_version=1,
            predictions=np.array([10.0, 20.0, 30.0, 40.0]),
            timestamp=50.0,
        )
        log.append_feedback(request_ids=ids[:2], labels=[11.0, 19.0], timestamp=60.0)
        log.flush()
        log.append_feedback(request_ids=[ids[1], ids[3]], labels=[21.0, 42.0], timestamp=900.0)

    labelled = read_labelled(ws, "bikes")
    assert labelled.meta["request_id"].tolist() == [ids[0], ids[1], ids[3]]
    assert labelled.meta["label"].tolist() == [11.0, 21.0, 42.0]  # the latest label wins
    assert len(labelled.inputs) == 3
    assert len(read_feedback(ws, "bikes", start=0.0, end=100.0)) == 2


def test_input_types_that_differ_between_batches_are_promoted(ws: Workspace) -> None:
    with PredictionLog(ws, "bikes") as log:
        log.append(
            pd.DataFrame({"hr": [1, 2]}),
            request_ids=_ids("i", 2),
            model_version=1,
            predictions=np.zeros(2),
            timestamp=1.0,
        )
        log.flush()
        log.append(
            pd.DataFrame({"hr": [2.5], "extra": ["x"]}),
            request_ids=_ids("j", 1),
            model_version=1,
            predictions=np.zeros(1),
            timestamp=2.0,
        )
    window = read_predictions(ws, "bikes")
    assert window.inputs["hr"].tolist() == [1.0, 2.0, 2.5]
    assert window.inputs["extra"].isna().tolist() == [True, True, False]


def test_many_threads_appending_lose_nothing(ws: Workspace) -> None:
    log = PredictionLog(ws, "bikes", flush_interval=0.05)

    def client(k: int) -> None:
        for i in range(50):
            log.append(
                _inputs(1, start=i),
                request_ids=_ids(f"t{k}x{i}x", 1),
                model_version=1,
                predictions=np.array([float(i)]),
            )

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log.close()
    window = read_predictions(ws, "bikes")
    assert len(window) == 400
    assert window.meta["request_id"].is_unique


def test_the_writer_flushes_on_its_own_within_the_interval(ws: Workspace) -> None:
    log = PredictionLog(ws, "bikes", flush_interval=0.05)
    log.append(_inputs(1), request_ids=_ids("w", 1), model_version=1, predictions=np.ones(1))
    deadline = time.monotonic() + 10
    while count_predictions(ws, "bikes") == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert count_predictions(ws, "bikes") == 1
    log.close()


def test_a_failed_write_keeps_the_rows_and_is_retried(ws: Workspace) -> None:
    root = ws.artifacts.root  # type: ignore[attr-defined]
    log = PredictionLog(ws, "bikes", flush_interval=0.05)
    shutil.rmtree(root)
    root.write_text("not a folder")  # every write of a blob now fails
    log.append(_inputs(2), request_ids=_ids("e", 2), model_version=1, predictions=np.ones(2))
    with pytest.raises(PredictionLogError, match=r"could not write 2 rows within 0\.3 s"):
        log.flush(timeout=0.3)
    assert log.pending == 2 and log.last_error is not None

    root.unlink()
    root.mkdir()
    log.flush(timeout=10)
    log.close()
    assert log.pending == 0 and log.last_error is None
    assert len(read_predictions(ws, "bikes")) == 2


def test_a_closed_log_refuses_new_rows(ws: Workspace) -> None:
    log = PredictionLog(ws, "bikes")
    log.close()
    log.close()  # twice is fine
    with pytest.raises(PredictionLogError, match="is closed; open a new one"):
        log.append(_inputs(1), request_ids=_ids("z", 1), model_version=1, predictions=np.ones(1))


def test_the_flush_interval_must_be_positive(ws: Workspace) -> None:
    with pytest.raises(PredictionLogError, match="flush interval must be positive; got 0"):
        PredictionLog(ws, "bikes", flush_interval=0)


def test_a_batch_whose_parts_disagree_is_refused_at_once(ws: Workspace) -> None:
    with PredictionLog(ws, "bikes") as log:
        with pytest.raises(ValueError, match="predictions has 2 rows; expected 3"):
            log.append(
                _inputs(3), request_ids=_ids("l", 3), model_version=1, predictions=np.ones(2)
            )
        assert log.pending == 0


def test_batches_written_together_keep_their_own_times_and_probabilities(ws: Workspace) -> None:
    with PredictionLog(ws, "churn", flush_interval=60) as log:
        for i in range(3):
            log.append(
                _inputs(2, start=i),
                request_ids=_ids(f"p{i}", 2),
                model_version=1,
                predictions=np.array(["no", "yes"], dtype=object),
                probabilities=np.array([[0.9, 0.1], [0.3, 0.7]]),
                classes=["no", "yes"],
                timestamp=10.0 + i,
            )
    assert log.segments == 1
    meta = read_predictions(ws, "churn").meta
    assert meta["timestamp"].tolist() == [10.0, 10.0, 11.0, 11.0, 12.0, 12.0]
    assert meta["proba:yes"].tolist() == [0.1, 0.7] * 3
