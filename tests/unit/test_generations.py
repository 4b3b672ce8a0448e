from python_connector import config as cfg
from python_connector.records import offsets
from python_connector.records.offsets import TableSnapshot
from python_connector.streams import generations
from python_connector.streams.positions import InitialPosition

RAW = {"name": "c", "dynamodb.table.includelist": "ttt", "dynamodb.service.endpoint": "http://x"}


def decide(stored, mode="CDC", **extra):
    config = cfg.parse({**RAW, "dynamodb.table.sync.mode": mode, **extra})
    return generations.decide(config, "c", ["ttt"], stored, {"ttt": TableSnapshot(500_000, 1)},
                              now_ms=1_800_000_000_000)["ttt"]


def entry(partition, offset):
    return {"partition": partition, "offset": offset}


def test_a_first_start_is_a_new_generation_from_the_configured_position():
    assert decide([]) == generations.StreamPlan("connect-KCL--c-ttt-s1800000000000", InitialPosition("TRIM_HORIZON"),
                                                True)
    assert decide([], "SNAPSHOT_CDC") == generations.StreamPlan(
        "connect-KCL--c-ttt-s500000", InitialPosition("AT_TIMESTAMP", 500_000 - generations.HANDOVER_MARGIN_MS), True)


def test_a_started_generation_goes_on_in_its_lease_table():
    stored = [entry(offsets.cdc_started_partition("ttt"), offsets.cdc_started_offset("L1")),
              entry(offsets.stream_partition("ttt"), offsets.stream_start_offset(900_000, "L1"))]
    plan = decide(stored)
    assert (plan.lease_table, plan.new, plan.previous) == ("L1", False, None)


def test_an_edited_type_c_starts_a_new_generation_from_its_timestamp_replacing_the_last():
    stored = [entry(offsets.cdc_started_partition("ttt"), offsets.cdc_started_offset("L1")),
              entry(offsets.stream_partition("ttt"), {"cdc.start.position.timestamp": "01/07/2024 10:30:28",
                                                    "cdc.start.position.timestamp.format": "dd/MM/yyyy HH:mm:ss"})]
    assert decide(stored) == generations.StreamPlan(
        "connect-KCL--c-ttt-t1719829828000", InitialPosition("AT_TIMESTAMP", 1719829828000), True, "L1")
    default_format = [stored[0], entry(offsets.stream_partition("ttt"),
                                       {"cdc.start.position.timestamp": "2024-07-01T10:30:28Z"})]
    assert decide(default_format).initial.at_ms == 1719829828000


def test_a_timestamp_still_to_come_reads_from_now_on_as_latest():
    future = [entry(offsets.cdc_started_partition("ttt"), offsets.cdc_started_offset("L1")),
              entry(offsets.stream_partition("ttt"), {"cdc.start.position.timestamp": "2099-01-01T00:00:00Z"})]
    assert decide(future).initial == InitialPosition("LATEST")
