from python_connector.aws.client import AwsError
from python_connector.records.offsets import TableSnapshot
from python_connector.snapshot.registry import STALE_AFTER_MS, SnapshotRegistry


class FakeItems:
    """GetItem/PutItem/UpdateItem on one table keyed by tableName, as the registry uses them."""

    endpoint = "http://fake"

    def __init__(self):
        self.items = {}

    def call(self, operation, body):
        key = body.get("Key", body.get("Item", {})).get("tableName", {}).get("S")
        if operation == "GetItem":
            return {"Item": self.items[key]} if key in self.items else {}
        if operation == "PutItem":
            self.items[key] = body["Item"]
            return {}
        if operation == "UpdateItem":
            if key not in self.items:
                raise AwsError(operation, "ConditionalCheckFailedException", "", 400)
            self.items[key]["open"] = body["ExpressionAttributeValues"][":f"]
            return {}
        raise AssertionError(operation)


def test_a_decision_stands_until_a_reset_and_the_next_snapshot_counts_on():
    registry = SnapshotRegistry(FakeItems(), "r")
    assert registry.decide("t", 100) == TableSnapshot(100, 1)
    assert registry.decide("t", 200) == TableSnapshot(100, 1)  # asked again before any record was committed
    registry.close(["t", "never-snapshotted"])
    assert registry.decide("t", 300) == TableSnapshot(300, 2)
    assert registry.decide("t", 400) == TableSnapshot(300, 2)


def test_a_decision_that_never_began_starts_again_with_the_same_count():
    registry = SnapshotRegistry(FakeItems(), "r")
    registry.decide("t", 100)
    assert registry.decide("t", 100 + STALE_AFTER_MS) == TableSnapshot(100 + STALE_AFTER_MS, 1)
