from python_connector.metrics.progress import SnapshotProgress
from python_connector.snapshot.strategy import retention_warning

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
