from python_connector.records import offsets


def test_stored_typeb_offsets_are_read_back_by_table_and_segment():
    stored = [
        {"partition": offsets.snapshot_partition("t", 2),
         "offset": {**offsets.snapshot_offset("t", 2, 5, 1, 99), "exclusiveStartKey": '{"k":{"S":"x"}}'}},
        {"partition": offsets.snapshot_partition("t", 3),
         "offset": {**offsets.snapshot_offset("t", 3, 5, 1, 99), **offsets.SEGMENT_DONE}},
        {"partition": {"stream": "t"}, "offset": {"cdc.start.position.timestamp": "x"}},
    ]
    read = offsets.read_segments(stored)
    assert set(read) == {("t", 2), ("t", 3)}
    assert read[("t", 2)] == offsets.SegmentProgress(99, 1, '{"k":{"S":"x"}}', False)
    assert read[("t", 3)].completed
