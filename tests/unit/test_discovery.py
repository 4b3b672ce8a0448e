from python_connector import config
from python_connector.connector.discovery import discover, tagged_tables

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/"


class FakeTagging:
    """tag:GetResources over two pages."""

    endpoint = "http://tagging"

    def __init__(self):
        self.requests = []

    def call(self, operation, body):
        assert operation == "GetResources"
        self.requests.append(dict(body))
        if "PaginationToken" not in body:
            return {"ResourceTagMappingList": [{"ResourceARN": ARN + "orders"}], "PaginationToken": "p2"}
        return {"ResourceTagMappingList": [{"ResourceARN": ARN + "customers"}, {"ResourceARN": ARN + "gone_table"}]}


class FakeDynamo:
    """ListTables over two pages."""

    endpoint = "http://dynamodb"

    def call(self, operation, body):
        assert operation == "ListTables"
        if "ExclusiveStartTableName" not in body:
            return {"TableNames": ["customers"], "LastEvaluatedTableName": "customers"}
        return {"TableNames": ["orders", "other"]}


def test_tag_filters_become_and_of_keys_or_of_values_and_all_pages_are_read():
    tagging = FakeTagging()
    assert tagged_tables(tagging, {"env": ["prod", "staging"], "cdc": ["on"]}) == ["customers", "gone_table", "orders"]
    assert tagging.requests[0] == {"ResourceTypeFilters": ["dynamodb:table"],
                                   "TagFilters": [{"Key": "env", "Values": ["prod", "staging"]},
                                                  {"Key": "cdc", "Values": ["on"]}]}
    assert tagging.requests[1]["PaginationToken"] == "p2"


def test_tagged_tables_missing_at_the_endpoint_are_skipped():
    cfg = config.parse({"dynamodb.table.discovery.mode": "TAG", "aws.resource.tagging.endpoint": "http://t",
                        "dynamodb.table.tag.filters": "env:prod"})
    assert discover(cfg, FakeDynamo(), FakeTagging()) == ["customers", "orders"]


def test_includelist_mode_needs_no_lookup():
    cfg = config.parse({"dynamodb.table.includelist": "bbb, aaa, bbb"})
    assert discover(cfg, None, None) == ["bbb", "aaa"]
