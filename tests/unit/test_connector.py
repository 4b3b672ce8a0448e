
from python_connector.connector import planning as connector
from python_connector.connector.offsets_admin import offset_partitions
from python_connector.records import offsets
from python_connector.task.task_config import TABLES_KEY, Unit, assignment_of, snapshots_of


def task_configs(*args, **kwargs):
    """Without a snapshot registry (it lives in DynamoDB): decisions in memory."""
    return connector.task_configs(*args, registry_of=lambda *_: None, **kwargs)


RAW = {"name": "c", "dynamodb.table.includelist": "aaa,bbb", "dynamodb.service.endpoint": "http://x",
       "dynamodb.table.sync.mode": "SNAPSHOT"}


def test_segments_spread_round_robin_over_tasks():
    units = [("a", s) for s in range(5)]
    assert connector.split(units, 2) == [[("a", 0), ("a", 2), ("a", 4)], [("a", 1), ("a", 3)]]
    assert len(connector.split(units, 10)) == 5  # never more tasks than units


def test_task_configs_carry_assignment_and_one_snapshot_decision_per_table():
    stored = [{"partition": offsets.snapshot_partition("aaa", 1),
               "offset": offsets.snapshot_offset("aaa", 1, 5, 1, 77)}]
    configs = task_configs(RAW, 3, stored, now_ms=lambda: 1000)
    assert len(configs) == 3
    units = [u for c in configs for u in assignment_of(c)]
    assert sorted(units) == [(t, s) for t in ("aaa", "bbb") for s in range(5)]
    snapshots = snapshots_of(configs[0])
    assert (snapshots["aaa"].start_ms, snapshots["bbb"].start_ms) == (77, 1000)
    assert all(c["name"] == "c" for c in configs)


def test_offset_partitions_of_a_task_are_its_own_segments():
    task = task_configs(RAW, 10, [], now_ms=lambda: 1)[0]
    assert offset_partitions(task) == [offsets.snapshot_partition("aaa", 0)]
    assert len(offset_partitions(RAW)) == 10


def test_the_discovered_table_set_replaces_the_include_list_and_is_not_passed_to_tasks():
    raw = {**RAW, TABLES_KEY: '["ccc"]'}
    configs = task_configs(raw, 10, [], now_ms=lambda: 1)
    assert sorted(u for c in configs for u in assignment_of(c)) == [("ccc", s) for s in range(5)]
    assert all(TABLES_KEY not in c for c in configs)


def test_no_matching_table_means_no_task():
    assert task_configs({**RAW, TABLES_KEY: "[]"}, 3, [], now_ms=lambda: 1) == []


def test_cdc_mode_gives_every_task_every_stream_for_leases_to_share_out():
    configs = task_configs({**RAW, "dynamodb.table.sync.mode": "CDC"}, 3, [], now_ms=lambda: 1)
    assert [assignment_of(c) for c in configs] == [[Unit.stream("aaa"), Unit.stream("bbb")]] * 3


def test_snapshot_cdc_keeps_each_tables_segments_and_stream_on_one_task():
    configs = task_configs({**RAW, "dynamodb.table.sync.mode": "SNAPSHOT_CDC"}, 5, [], now_ms=lambda: 1)
    per_task = [assignment_of(c) for c in configs]
    assert len(per_task) == 2
    for units in per_task:
        assert len({t for t, _ in units}) == 1
        assert sorted(s for _, s in units if s is not None) == [0, 1, 2, 3, 4] and units[-1].is_stream


def test_snapshot_cdc_shares_out_the_streams_of_tables_whose_snapshot_is_complete():
    done = [{"partition": offsets.snapshot_partition("aaa", s),
             "offset": {**offsets.snapshot_offset("aaa", s, 5, 1, 77), **offsets.SEGMENT_DONE}} for s in range(5)]
    raw = {**RAW, "dynamodb.table.sync.mode": "SNAPSHOT_CDC"}
    per_task = [assignment_of(c) for c in task_configs(raw, 3, done, now_ms=lambda: 1)]
    assert per_task == [[("bbb", s) for s in range(5)] + [Unit.stream("bbb"), Unit.stream("aaa")],
                        [Unit.stream("aaa")], [Unit.stream("aaa")]]
    unfinished = [*done[:4], {**done[4], "offset": offsets.snapshot_offset("aaa", 4, 5, 1, 77)}]
    per_task = [assignment_of(c) for c in task_configs(raw, 3, unfinished, now_ms=lambda: 1)]
    assert len(per_task) == 2 and all(len({t for t, _ in units}) == 1 for units in per_task)
