"""Lease tables in DynamoDB Local: conditional writes keep one owner per shard, and leases move gracefully."""

from botocore.credentials import Credentials

from python_connector.aws.client import JsonClient
from python_connector.streams import leases
from python_connector.streams.leases import SHARD_END, Committed, LeaseKeeper, LeaseTable
from python_connector.streams.source import Shard


def lease_table(stack, unique):
    client = JsonClient(stack.dynamodb_endpoint, "us-east-1", Credentials("test", "test"), "DynamoDB_20120810")
    return LeaseTable(client, leases.table_name("connect-KCL-", "c", f"t_{unique}", "s1"), "PROVISIONED", 5, 5)


def test_a_stale_writer_is_refused_and_a_lease_moves_only_when_its_owner_hands_it_over(stack, unique):
    table = lease_table(stack, unique)
    table.ensure()
    table.ensure()  # a second task finds it
    try:
        for i in range(2):
            table.create(Shard(f"s{i}", None, False), leases.TRIM_HORIZON, "arn")
        table.create(Shard("s0", None, False), SHARD_END, "arn")  # a concurrent creator does not overwrite
        seen = table.leases()
        assert seen["s0"].checkpoint == leases.TRIM_HORIZON
        assert table.advance(seen["s0"], "a") is not None
        assert table.advance(seen["s0"], "b") is None  # b saw an older counter

        first, second = LeaseKeeper("first"), LeaseKeeper("second")
        first.add_table("t", table)
        second.add_table("t", table)
        table.advance(table.leases()["s0"], None)  # a let it go
        first.cycle()
        assert set(first.held("t")) == {"s0", "s1"}
        first.emitted("t", "s1", "00010")
        first.emitted("t", "s0", "00020")
        second.cycle()  # under its share: asks first for one lease
        asked = next(lease.shard for lease in table.leases().values() if lease.next_owner == "second")
        first.cycle()
        assert asked not in first.held("t")  # its reader is to stop reading it
        first.stopped_reading("t", asked)
        first.committed([Committed("t", "s1", "00010"), Committed("t", "s0", "00020")])
        first.cycle()
        second.cycle()
        after = table.leases()
        assert after[asked].owner == "second" and after[asked].checkpoint == ("00010" if asked == "s1" else "00020")
        assert set(first.held("t")) == {"s0", "s1"} - {asked} and set(second.held("t")) == {asked}
    finally:
        assert table.drop()
    assert not table.drop()
