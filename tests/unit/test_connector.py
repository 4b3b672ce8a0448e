
from python_connector import connector, offsets

RAW = {"name": "c", "dynamodb.table.includelist": "aaa,bbb", "dynamodb.service.endpoint": "http://x",
       "dynamodb.table.sync.mode": "SNAPSHOT"}


def test_segments_spread_round_robin_over_tasks():
    units = [("a", s) for s in range(5)]
    assert connector.split(units, 2) == [[("a", 0), ("a", 2), ("a", 4)], [("a", 1), ("a", 3)]]
    assert len(connector.split(units, 10)) == 5  # never more tasks than units


def test_task_configs_carry_assignment_and_one_snapshot_decision_per_table():
    stored = [{"partition": offsets.snapshot_partition("aaa", 1),
               "offset": offsets.snapshot_offset("aaa", 1, 5, 1, 77)}]
    configs = connector.task_configs(RAW, 3, stored, now_ms=lambda: 1000)
    assert len(configs) == 3
    units = [u for c in configs for u in connector.assignment_of(c)]
    assert sorted(units) == [(t, s) for t in ("aaa", "bbb") for s in range(5)]
    snapshots = connector.snapshots_of(configs[0])
    assert (snapshots["aaa"].start_ms, snapshots["bbb"].start_ms) == (77, 1000)
    assert all(c["name"] == "c" for c in configs)


def test_offset_partitions_of_a_task_are_its_own_segments():
    task = connector.task_configs(RAW, 10, [], now_ms=lambda: 1)[0]
    assert connector.offset_partitions(task) == [offsets.snapshot_partition("aaa", 0)]
    assert len(connector.offset_partitions(RAW)) == 10


def test_the_discovered_table_set_replaces_the_include_list_and_is_not_passed_to_tasks():
    raw = {**RAW, connector.TABLES_KEY: '["ccc"]'}
    configs = connector.task_configs(raw, 10, [], now_ms=lambda: 1)
    assert sorted(u for c in configs for u in connector.assignment_of(c)) == [("ccc", s) for s in range(5)]
    assert all(connector.TABLES_KEY not in c for c in configs)


def test_no_matching_table_means_no_task():
    assert connector.task_configs({**RAW, connector.TABLES_KEY: "[]"}, 3, [], now_ms=lambda: 1) == []


def test_cdc_mode_gives_one_stream_unit_per_table_and_snapshot_cdc_both():
    cdc_units = [u for c in connector.task_configs({**RAW, "dynamodb.table.sync.mode": "CDC"}, 5, [],
                                                   now_ms=lambda: 1) for u in connector.assignment_of(c)]
    assert sorted(cdc_units) == [("aaa", connector.STREAM), ("bbb", connector.STREAM)]


def test_snapshot_cdc_keeps_each_tables_segments_and_stream_on_one_task():
    configs = connector.task_configs({**RAW, "dynamodb.table.sync.mode": "SNAPSHOT_CDC"}, 5, [], now_ms=lambda: 1)
    per_task = [connector.assignment_of(c) for c in configs]
    assert len(per_task) == 2
    for units in per_task:
        assert len({t for t, _ in units}) == 1
        assert sorted(s for _, s in units) == [connector.STREAM, 0, 1, 2, 3, 4]
