import pytest

from python_connector.cli.status import describe, table_views
from python_connector.metrics.progress import SnapshotProgress
from python_connector.snapshot.strategy import Blocking, StreamStartTrimmed, duration_warning, retention_warning

HOUR = 3_600_000


def test_a_snapshot_near_the_stream_retention_is_warned_about():
    assert retention_warning("t", 0, 19 * HOUR) is None
    message = retention_warning("t", 0, 21 * HOUR)
    assert "began 21.0 h ago" in message and "within 3.0 h" in message


def test_progress_lines_give_count_estimate_rate_and_eta():
    now = [0.0]
    progress = SnapshotProgress("task-0", {"orders": 1000}, clock=lambda: now[0])
    progress.add("orders", 250)
    now[0] = 10.0
    assert progress.lines() == ["task-0: snapshot of orders: 250 items read of ~1,000 (25%), ETA 30s, 25 items/s"]


def test_a_blocking_snapshot_whose_stream_start_was_trimmed_fails_naming_concurrent():
    now = {"ms": 23 * HOUR}
    order = Blocking(lambda t: True, {"t": 0}, lambda: now["ms"])
    assert order.stream_may_start("t")
    assert order.stream_may_start("resumed")  # no new generation: it resumes from stored positions
    now["ms"] = 24 * HOUR
    with pytest.raises(StreamStartTrimmed, match=r"dynamodb\.snapshot\.strategy=CONCURRENT"):
        order.stream_may_start("t")
    assert not Blocking(lambda t: False, {"t": 0}, lambda: now["ms"]).stream_may_start("t")  # still scanning


def test_a_blocking_snapshot_predicted_over_20_hours_is_warned_about():
    assert duration_warning("t", 1_000_000, 0.125, 100) is None  # 1250 s
    message = duration_warning("t", 100_000_000, 0.125, 100)  # 34.7 h
    assert message is not None and "34.7 h" in message and "CONCURRENT" in message
    assert duration_warning("t", 10, 0.125, 0) is None


def test_status_shows_a_concurrent_snapshot_and_the_cdc_lag_together():
    labels = {"connector": "c", "table": "t", "task": "0"}
    samples = [("ddbcdc_table_phase", {**labels, "phase": "cdc"}, 1.0),
               ("ddbcdc_snapshot_concurrent", labels, 1.0),
               ("ddbcdc_snapshot_items_read_total", labels, 250.0),
               ("ddbcdc_snapshot_items_estimated", labels, 1000.0),
               ("ddbcdc_snapshot_held_pages", labels, 3.0),
               ("ddbcdc_cdc_lag_ms", {**labels, "shard": "s1"}, 420.0),
               ("ddbcdc_cdc_retention_left_ms", {**labels, "shard": "s1"}, 86_000_000.0)]
    offsets = [{"partition": {"segment": "0", "tableName": "t"},
                "offset": {"totalSegments": "5", "segmentCompleted": "true"}}]
    text = describe("t", table_views("c", offsets, samples)["t"], 25.0)
    assert "snapshot+cdc" in text and "25%" in text and "segments done 1/5" in text and "held pages 3" in text
    assert "lag 420 ms" in text and "ETA 30s" in text
