import pytest

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
