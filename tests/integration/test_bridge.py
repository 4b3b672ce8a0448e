"""The JPype bridge under Connect-like use: many Java threads at once, and errors crossing classified."""

from __future__ import annotations

import logging
import threading

import jpype
import pytest

from python_connector.engine import Engine
from python_connector.jvm import bridge
from python_connector.records import wire
from python_connector.records.envelope import SnapshotSource, snapshot_records
from python_connector.records.tables import TableInfo
from tests.integration import jvm

pytestmark = pytest.mark.local_stack  # runs worker processes or a JVM of its own

TABLE = TableInfo("bridge_t", (("id", "S"),), 0)
RECORDS_PER_BATCH = 50


class CountingTask:
    """Serves batches of real snapshot records and counts acknowledgements."""

    def __init__(self, raw, stored):
        source = SnapshotSource(TABLE, 0, 5, 1, 1)
        records = snapshot_records([{"id": {"S": f"k{i}"}, "v": {"N": str(i)}} for i in range(RECORDS_PER_BATCH)],
                                   TABLE.key, 5)
        self._group = (source.header(5), records)
        self._ids = iter(range(1, 10**9))
        self._lock = threading.Lock()
        self.acknowledged: set[int] = set()

    def start(self):
        pass

    def poll(self):
        with self._lock:
            batch_id = next(self._ids)
        return wire.batch(batch_id, [self._group])

    def acknowledge(self, batch_id):
        with self._lock:
            self.acknowledged.add(batch_id)

    def stop(self):
        pass


@pytest.fixture(scope="module")
def engine():
    jvm.start()
    tasks: list[CountingTask] = []

    def factory(raw, stored):
        tasks.append(CountingTask(raw, stored))
        return tasks[-1]

    eng = Engine(task_factory=factory)
    bridge.install(eng)
    eng.tasks = tasks
    return eng


def driver():
    return jpype.JClass("io.ddbcdc.connect.BridgeDriver")


def test_many_java_threads_calling_at_once_do_not_deadlock(engine):
    handles = [engine.start_task({}, []) for _ in range(4)]
    threads, calls = 16, 200
    polled = driver().concurrentCalls(jpype.JArray(jpype.JString)(handles), threads, calls, 60_000)
    assert polled == threads * calls * RECORDS_PER_BATCH
    assert sum(len(t.acknowledged) for t in engine.tasks[-4:]) == threads * calls


def test_python_work_on_other_threads_does_not_starve_java_calls(engine):
    handle = engine.start_task({}, [])
    stop = threading.Event()

    def busy():
        while not stop.is_set():
            sum(range(1000))

    spinners = [threading.Thread(target=busy, daemon=True) for _ in range(2)]
    for s in spinners:
        s.start()
    try:
        polled = driver().concurrentCalls(jpype.JArray(jpype.JString)([handle]), 4, 100, 60_000)
    finally:
        stop.set()
    assert polled == 4 * 100 * RECORDS_PER_BATCH


def test_a_python_error_reaches_java_as_connect_exception_with_its_message_and_a_logged_traceback(engine, caplog):
    real = Engine()  # the real task factory: this configuration fails its validation
    bridge.install(real)
    try:
        with caplog.at_level(logging.ERROR, logger="python_connector.jvm.bridge"):
            error = driver().startTaskFailure('{"max.batch.size": "5", "dynamodb.table.includelist": "orders", '
                                              '"dynamodb.table.sync.mode": "SNAPSHOT"}')
    finally:
        bridge.install(engine)
    assert error is not None
    assert error.getClass().getName() == "org.apache.kafka.connect.errors.ConnectException"
    expected = "max.batch.size: Invalid value for max.batch.size: must be in [100, 10000], got 5."
    assert expected in str(error.getMessage())
    assert any(r.exc_info and "startTask" in r.getMessage() for r in caplog.records)


def test_a_retriable_aws_error_becomes_retriable_exception():
    from python_connector.aws.client import AwsError

    jvm.start()
    throttled = bridge.to_java_exception(AwsError("Scan", "ProvisionedThroughputExceededException", "slow down", 400))
    denied = bridge.to_java_exception(AwsError("Scan", "AccessDeniedException", "no", 400))
    assert throttled.getClass().getName() == "org.apache.kafka.connect.errors.RetriableException"
    assert denied.getClass().getName() == "org.apache.kafka.connect.errors.ConnectException"


class TtlDeleteTask(CountingTask):
    """One TTL-expiry delete, as DynamoDB Streams reports it."""

    def poll(self):
        from python_connector.records.envelope import StreamSource, change_records

        record = {"eventName": "REMOVE", "userIdentity": {"type": "Service", "principalId": "dynamodb.amazonaws.com"},
                  "dynamodb": {"ApproximateCreationDateTime": 1.0, "Keys": {"id": {"S": "k"}}, "SequenceNumber": "1",
                               "OldImage": {"id": {"S": "k"}}}}
        header = StreamSource(TABLE, "arn", "shard-1", "leases").header(5)
        return wire.batch(1, [(header, change_records([record], TABLE.key))])


def test_a_ttl_delete_and_its_tombstone_carry_the_ttl_header_in_java(engine):
    ttl_engine = Engine(task_factory=TtlDeleteTask)
    bridge.install(ttl_engine)
    try:
        described = list(driver().describeOnePoll(ttl_engine.start_task({}, [])))
    finally:
        bridge.install(engine)
    assert [str(d) for d in described] == ["d|dynamodb.ttl.delete=true", "tombstone|dynamodb.ttl.delete=true"]
