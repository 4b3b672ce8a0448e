"""Change data capture at AWS stream scale, against the DynamoDB Streams simulator (tests/simulator): hundreds of
shards rotating every few seconds, splits, DescribeStream paging over a thousand retained shards, expiring
iterators, throttling and slow answers, trimming. One launcher worker of this checkout (exactly-once source
support enabled) runs every test's connector. Its lease tables are kept by the simulator (``--own-tables``): at
this churn the connector writes them tens of times a second, more than the shared DynamoDB Local answers on a
loaded machine; ``SCALE_LEASE_TABLES=dynamodb-local`` forwards them there instead.

The sizes are knobs (environment variables ``SCALE_*`` below), small enough by default for a loaded machine.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests
from botocore.credentials import Credentials
from confluent_kafka import Consumer, KafkaException, TopicPartition

from python_connector.aws.client import JsonClient
from python_connector.streams.dynamodb import STREAMS_TARGET, list_shards
from tests.integration.conftest import Stack, wait_until
from tests.integration.workers import free_port, start_launched, wait_for_rest, worker_properties
from tests.simulator.changelog import changes_by_key, read_change_log
from tests.simulator.process import SimulatorProcess

pytestmark = pytest.mark.local_stack  # runs worker processes of its own

SHARDS = int(os.environ.get("SCALE_SHARDS", "200"))
ROTATE_S = float(os.environ.get("SCALE_ROTATE_S", "4"))
ROTATIONS = int(os.environ.get("SCALE_ROTATIONS", "10"))  # shard generations the first test spans
WRITES_PER_S = float(os.environ.get("SCALE_WRITES_PER_S", "100"))
KEYS = int(os.environ.get("SCALE_KEYS", "400"))
RETAINED = int(os.environ.get("SCALE_RETAINED_SHARDS", "1000"))
DISCOVERY_BOUND_MS = float(os.environ.get("SCALE_DISCOVERY_BOUND_MS", "10000"))
LEASES_IN_SIMULATOR = os.environ.get("SCALE_LEASE_TABLES", "simulator") == "simulator"
DRAIN_S = 150  # deadline for the last change to reach Kafka once writes stop


@contextmanager
def launched_worker(stack: Stack, directory: Path, exactly_once: bool) -> Iterator[Stack]:
    """A launcher worker of this checkout, its engine's metrics served."""
    port, metrics = free_port(), free_port()
    group = f"scale-{uuid.uuid4().hex[:8]}"
    props = worker_properties(directory / "worker.properties", stack.bootstrap, port, group,
                              extra=["exactly.once.source.support=enabled"] if exactly_once else [])
    log = directory / "worker.log"
    process = start_launched(props, log, options=["--metrics-port", str(metrics)])
    try:
        wait_for_rest(process, f"http://127.0.0.1:{port}", log)
        yield Stack(stack.dynamodb_endpoint, stack.bootstrap, f"http://127.0.0.1:{port}",
                    metrics_url=f"http://127.0.0.1:{metrics}/metrics", worker_log_reader=lambda: log.read_text())
    finally:
        process.kill()
        process.wait(30)


@pytest.fixture(scope="module")
def worker(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """With exactly-once source support: every test's connector runs here (transactional tasks)."""
    with launched_worker(stack, tmp_path_factory.mktemp("scale-worker"), exactly_once=True) as rest:
        yield rest


@pytest.fixture(scope="module")
def plain_worker(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Without: at-least-once delivery, where only the engine keeps hand-overs and restarts from repeating."""
    with launched_worker(stack, tmp_path_factory.mktemp("scale-plain-worker"), exactly_once=False) as rest:
        yield rest


def simulator(tmp_path: Path, stack: Stack, table: str, **knobs: Any) -> SimulatorProcess:
    where = {"own_tables": True} if LEASES_IN_SIMULATOR else {"forward": stack.dynamodb_endpoint}
    return SimulatorProcess(table=table, log=tmp_path / "changes.jsonl", seed=7, **where, **knobs)


def cdc_config(stack: Stack, sim: SimulatorProcess, table: str, **overrides: str) -> dict[str, str]:
    return stack.connector_config(table, **{
        "dynamodb.service.endpoint": sim.endpoint, "dynamodb.table.sync.mode": "CDC",
        "dynamodb.cdc.initial.stream.position": "TRIM_HORIZON", "poll.linger.ms": "50", "max.batch.size": "2000",
        **overrides})


class TopicTail:
    """The records of a one-partition topic read so far (read_committed: aborted transactions are skipped):
    per key, the sequence numbers of its change records in topic order."""

    def __init__(self, bootstrap: str, topic: str):
        self._consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"scale-{uuid.uuid4()}",
                                   "isolation.level": "read_committed", "enable.auto.commit": False})
        self._partition = TopicPartition(topic, 0)
        self._consumer.assign([TopicPartition(topic, 0, 0)])
        self.by_key: dict[str, list[str]] = {}
        self.count = 0

    def read(self) -> TopicTail:
        """Reads what is in the topic now (changes still flowing are read by the next call)."""
        try:
            _, high = self._consumer.get_watermark_offsets(self._partition, timeout=10)
        except KafkaException:  # no topic yet: nothing written
            return self
        while self._consumer.position([self._partition])[0].offset < high and \
                (messages := self._consumer.consume(5000, timeout=0.5)):
            for m in messages:
                if m.error() or m.value() is None:
                    continue  # a tombstone: it follows its delete, which is compared
                payload = orjson.loads(m.value())["payload"]
                key = orjson.loads(m.key())["payload"]["pk"]
                self.by_key.setdefault(key, []).append(payload["source"]["seq_No"])
                self.count += 1
        return self

    def close(self) -> None:
        self._consumer.close()


def expected_by_key(sim_log: Path) -> dict[str, list[str]]:
    return {key: [c["seq"] for c in changes] for key, changes in changes_by_key(read_change_log(sim_log)).items()}


def compare(expected: dict[str, list[str]], got: dict[str, list[str]]) -> dict[str, int]:
    """Counts of what differs between the simulator's log and the topic, per key."""
    out = {"keys": len(expected), "changes": sum(map(len, expected.values())), "lost": 0, "duplicated": 0,
           "out_of_order": 0}
    for key in expected.keys() | got.keys():
        want, have = expected.get(key, []), got.get(key, [])
        out["lost"] += len(set(want) - set(have))
        out["duplicated"] += len(have) - len(set(have))
        out["out_of_order"] += int(list(dict.fromkeys(have)) != [s for s in want if s in set(have)])
    return out


def drain(tail: TopicTail, sim: SimulatorProcess, log: Path) -> dict[str, int]:
    """Stops the writes and waits until every logged change is in Kafka; the comparison."""
    sim.pause_writes()
    expected = expected_by_key(log)
    total = sum(map(len, expected.values()))
    wait_until(lambda: tail.read().count >= total and compare(expected, tail.by_key)["lost"] == 0, DRAIN_S,
               f"all {total} changes in Kafka (have {tail.count})", interval_s=1)
    settled = time.monotonic() + 3  # a late duplicate would come within a poll or two: keep reading that long
    wait_until(lambda: tail.read() and time.monotonic() >= settled, 10, "the topic to settle", interval_s=0.5)
    return compare(expected, tail.by_key)


def streams(sim: SimulatorProcess) -> JsonClient:
    return JsonClient(sim.endpoint, "us-east-1", Credentials("test", "test"), STREAMS_TARGET)


def sim_arn(sim: SimulatorProcess) -> str:
    return str(streams(sim).call("ListStreams", {})["Streams"][0]["StreamArn"])


def remove(rest: Stack, name: str) -> None:
    """Deletes the connector and waits for its tasks to stop, while the simulator still answers them."""
    rest.delete_connector(name)
    wait_until(lambda: requests.get(f"{rest.connect_url}/connectors/{name}", timeout=10).status_code == 404, 30,
               f"connector {name} deleted")


def running(rest: Stack, name: str, tasks: int) -> bool:
    states = [t["state"] for t in rest.status(name).get("tasks", [])]
    return states == ["RUNNING"] * tasks


def metric_values(rest: Stack, name: str, connector: str) -> list[float]:
    return rest.metric(name, connector=connector)


def stored_shard_offsets(rest: Stack, name: str) -> dict[str, dict[str, Any]]:
    return {o["partition"]["shardId"]: o["offset"] for o in rest.offsets(name) if "shardId" in o["partition"]}


def assert_stored_offsets_name_logged_changes(rest: Stack, name: str, log: Path) -> None:
    """Every shard position Connect stored is a change the simulator logged on that shard."""
    logged = {(c["shard"], c["seq"]) for c in read_change_log(log)}
    stored = stored_shard_offsets(rest, name)
    assert stored, "no shard position stored"
    wrong = {shard: o for shard, o in stored.items()
             if o.get("sequenceNumber") and (shard, o["sequenceNumber"]) not in logged}
    assert not wrong, f"stored positions that are no logged change of their shard: {list(wrong.items())[:5]}"


@pytest.mark.parametrize("exactly_once", [True, False], ids=["exactly-once", "at-least-once"])
def test_rotating_shards_two_tasks_and_a_restart_deliver_each_change_exactly_once_in_order(
        request, stack, unique, tmp_path, exactly_once):
    worker = request.getfixturevalue("worker" if exactly_once else "plain_worker")
    table, name = f"scale_{unique}", f"scale-a-{unique}"
    started = time.monotonic()
    # AWS's proportions are 24 h of retention for six 4-hour rotations; here at least two minutes, more than a
    # restart's pause in reading (both tasks stop, start, take their leases; with exactly-once, Connect may refuse
    # the first start while the connector regenerates task configs): a minute was once not enough.
    with simulator(tmp_path, stack, table, shards=SHARDS, rotate_s=ROTATE_S, retention_s=max(120.0, 6 * ROTATE_S),
                   iterator_ttl_s=ROTATE_S, writes_per_s=WRITES_PER_S, keys=KEYS) as sim:
        worker.create_connector(name, cdc_config(stack, sim, table, **{
            "tasks.max": "2", **({"exactly.once.support": "required"} if exactly_once else {})}))
        tail = TopicTail(stack.bootstrap, table)
        try:
            wait_until(lambda: running(worker, name, 2), 120, "both tasks running")

            def generations() -> float:
                stats = sim.stats()
                return float(stats["rotations"]) / max(1, stats["open"])

            wait_until(lambda: generations() >= ROTATIONS / 2 and tail.read().count > 0, 60 + ROTATIONS * ROTATE_S,
                       "half the rotations, with changes in Kafka", interval_s=1)
            assert running(worker, name, 2), worker.status(name)  # the restart below would revive a failed task
            restart = requests.post(f"{worker.connect_url}/connectors/{name}/restart?includeTasks=true", timeout=30)
            assert restart.status_code in (200, 202, 204), restart.text
            wait_until(lambda: generations() >= ROTATIONS, 60 + ROTATIONS * ROTATE_S, f"{ROTATIONS} rotations",
                       interval_s=1)
            wait_until(lambda: running(worker, name, 2), 60, "both tasks running after the restart")
            result = drain(tail, sim, tmp_path / "changes.jsonl")
            stats = sim.stats()
            mode = "exactly-once" if exactly_once else "at-least-once"
            print(f"\n{mode}: {SHARDS} shards, {stats['rotations']} rotations ({generations():.1f} generations), "
                  f"{stats['splits']} splits, {stats['shards_listed']} listed, {stats['expired_iterators']} expired "
                  f"iterators, {stats['throttled']} throttled: {result} in {time.monotonic() - started:.0f}s")
            assert result["lost"] == result["duplicated"] == result["out_of_order"] == 0, result
            assert_stored_offsets_name_logged_changes(worker, name, tmp_path / "changes.jsonl")
            assert running(worker, name, 2)
        finally:
            tail.close()
            remove(worker, name)


def test_a_thousand_retained_shards_keep_discovery_bounded_and_reading_going(worker, stack, unique, tmp_path):
    table, name = f"retained_{unique}", f"scale-b-{unique}"
    open_shards = max(10, RETAINED // 10)
    with simulator(tmp_path, stack, table, shards=open_shards, max_shards=open_shards, rotate_s=1.0,
                   history_s=RETAINED / open_shards, retention_s=600, writes_per_s=50, keys=KEYS) as sim:
        sim.set(rotate_s=600)  # the history made the shards; from now on they hold still
        listed = sim.stats()["shards_listed"]
        assert listed >= RETAINED, sim.stats()
        worker.create_connector(name, cdc_config(stack, sim, table, **{"tasks.max": "2"}))
        tail = TopicTail(stack.bootstrap, table)
        try:
            wait_until(lambda: running(worker, name, 2), 120, "both tasks running")
            discovery = wait_until(lambda: metric_values(worker, "ddbcdc_cdc_discovery_ms", name), 60,
                                   "a discovery time")
            result = drain(tail, sim, tmp_path / "changes.jsonl")
            times = metric_values(worker, "ddbcdc_cdc_discovery_ms", name)
            tracked = metric_values(worker, "ddbcdc_cdc_shards_tracked", name)
            print(f"\n{listed} listed shards: discovery {discovery} then {times} ms per refresh, shards tracked "
                  f"{tracked}: {result}")
            assert max(times) < DISCOVERY_BOUND_MS
            assert result["lost"] == result["duplicated"] == result["out_of_order"] == 0, result
            assert not any(metric_values(worker, "ddbcdc_cdc_stalled_shards", name))
        finally:
            tail.close()
            remove(worker, name)


def test_throttling_and_slow_answers_lose_nothing_and_lag_recovers(worker, stack, unique, tmp_path):
    table, name = f"throttled_{unique}", f"scale-c-{unique}"
    # Iterators outlive a back-off only briefly: throttled shards also meet expired iterators.
    with simulator(tmp_path, stack, table, shards=32, rotate_s=5, retention_s=300, iterator_ttl_s=2, writes_per_s=80,
                   keys=KEYS, throttle=True, throttle_fraction=0.3, slow_fraction=0.05, slow_ms=300) as sim:
        worker.create_connector(name, cdc_config(stack, sim, table, **{"tasks.max": "2"}))
        tail = TopicTail(stack.bootstrap, table)
        try:
            wait_until(lambda: running(worker, name, 2), 120, "both tasks running")
            wait_until(lambda: sim.stats()["throttled"] >= 300 and tail.read().count > 1000, 90,
                       "throttled calls while changes flow", interval_s=1)
            retries = sum(worker.metric("ddbcdc_aws_retries_total"))
            sim.set(throttle=False, throttle_fraction=0.0, slow_fraction=0.0)
            wait_until(lambda: (lag := metric_values(worker, "ddbcdc_cdc_lag_ms", name)) and max(lag) < 5000, 60,
                       "the lag to recover", interval_s=1)
            result = drain(tail, sim, tmp_path / "changes.jsonl")
            stats = sim.stats()
            print(f"\nthrottled {stats['throttled']} calls ({retries:.0f} retried in the client), "
                  f"{stats['expired_iterators']} expired iterators: {result}")
            assert result["lost"] == result["duplicated"] == result["out_of_order"] == 0, result
        finally:
            tail.close()
            remove(worker, name)


def test_trimming_past_a_stopped_connectors_position_fails_the_table_loudly(worker, stack, unique, tmp_path):
    table, name = f"trimmed_{unique}", f"scale-d-{unique}"
    with simulator(tmp_path, stack, table, shards=8, rotate_s=2, retention_s=6, writes_per_s=40, keys=50) as sim:
        worker.create_connector(name, cdc_config(stack, sim, table))
        tail = TopicTail(stack.bootstrap, table)
        try:
            wait_until(lambda: running(worker, name, 1) and tail.read().count > 100, 90, "changes in Kafka")
            assert requests.put(f"{worker.connect_url}/connectors/{name}/stop", timeout=30).status_code in (202, 204)
            wait_until(lambda: worker.status(name)["connector"]["state"] == "STOPPED", 60, "the connector to stop")
            unread = {shard for shard, offset in stored_shard_offsets(worker, name).items()
                      if offset.get("shardEnded") != "true"}
            assert unread, "no position stored in an unfinished shard"
            wait_until(lambda: not unread & {s.id for s in list_shards(streams(sim), sim_arn(sim))}, 60,
                       "the shards the stopped connector was reading to be trimmed away", interval_s=1)
            assert requests.put(f"{worker.connect_url}/connectors/{name}/resume", timeout=30).status_code == 202
            failed = wait_until(lambda: [t for t in worker.status(name).get("tasks", []) if t["state"] == "FAILED"],
                                90, "the task to fail")
            print(f"\n{failed[0]['trace'].splitlines()[0]}")
            assert "are lost" in failed[0]["trace"] and table in failed[0]["trace"]
        finally:
            tail.close()
            remove(worker, name)
