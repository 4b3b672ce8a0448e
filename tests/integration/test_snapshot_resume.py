"""kill -9 of the worker mid-snapshot, then a restart: every item present, and the only duplicates are
exactly the records Connect had not committed when the worker died."""

import signal

import orjson
import pytest

from tests.integration.conftest import Stack, wait_until
from tests.integration.tables import create_table, load
from tests.integration.workers import free_port, start_launched, stored_offsets, wait_for_rest, worker_properties

pytestmark = pytest.mark.local_stack  # runs worker processes or a JVM of its own

ITEMS = 30_000


def start_worker(props, log, url):
    worker = start_launched(props, log)
    wait_for_rest(worker, url, log)
    return worker


def test_a_killed_worker_resumes_each_segment_right_after_its_last_committed_item(stack, unique, tmp_path):
    table = f"resume_{unique}"
    ddb = stack.dynamodb()
    create_table(ddb, table, [("id", "S")])
    load(ddb, table, ITEMS, lambda i: {"id": {"S": f"{i:06d}"}, "pad": {"S": "r" * 300}})
    group, port = f"resume-{unique}", free_port()
    url = f"http://127.0.0.1:{port}"
    props = worker_properties(tmp_path / "worker.properties", stack.bootstrap, port, group)
    rest = Stack(stack.dynamodb_endpoint, stack.bootstrap, url)

    worker = start_worker(props, tmp_path / "run1.log", url)
    try:
        rest.create_connector("resume", stack.connector_config(table, **{
            "tasks.max": "2", "max.batch.size": "200", "dynamodb.snapshot.max.poll.records": "100"}))
        wait_until(lambda: stack.topic_size(table) >= 6000, 120, "the snapshot to be under way")
        worker.send_signal(signal.SIGKILL)
        worker.wait(30)
        written_before_kill = stack.topic_size(table)
        committed = {}
        for partition, offset in stored_offsets(stack.bootstrap, f"{group}-offsets", "resume"):
            committed[int(partition["segment"])] = offset  # the last one written wins
        assert written_before_kill < ITEMS, "the snapshot finished before the kill; nothing was tested"

        worker = start_worker(props, tmp_path / "run2.log", url)
        wait_until(lambda: sum(o["offset"].get("segmentCompleted") == "true" for o in rest.offsets("resume")) == 5,
                   180, "the resumed snapshot to complete all 5 segments")
    finally:
        worker.kill()
        worker.wait(30)

    records = stack.read_topic(table)
    ids = [r.key["payload"]["id"] for r in records]
    assert set(ids) == {f"{i:06d}" for i in range(ITEMS)}, "an item is missing"

    # Per segment: the records of the first run after the last committed key are the ones read again.
    first_run: dict[int, list[str]] = {}
    for r in records[:written_before_kill]:
        first_run.setdefault(r.value["payload"]["source"]["segment"], []).append(r.key["payload"]["id"])
    expected_again: list[str] = []
    for segment, written in first_run.items():
        offset = committed.get(segment)
        if offset is None:
            expected_again += written
        elif offset["segmentCompleted"] != "true":
            last = orjson.loads(offset["exclusiveStartKey"])["id"]["S"]
            expected_again += written[written.index(last) + 1:]
    read_again = ids[written_before_kill:]
    duplicates = sorted(set(read_again) & set(ids[:written_before_kill]))
    print(f"written before kill {written_before_kill}, duplicates {len(duplicates)}, "
          f"expected (uncommitted at the kill) {len(expected_again)}")
    assert duplicates == sorted(expected_again)
    assert len(records) == ITEMS + len(expected_again)
    start_times = {r.value["payload"]["source"]["snapshotStartTime"] for r in records}
    assert len(start_times) == 1, "the restart began a new snapshot instead of resuming"
