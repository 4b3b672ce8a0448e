"""DynamoDB Streams: a table's stream, its shards in lineage order, and the stream errors we act on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from python_connector.aws.client import AwsError, JsonClient, resolve_credentials, resolve_region
from python_connector.config import ConnectorConfig

STREAMS_TARGET = "DynamoDBStreams_20120810"
# The images the envelope needs: before and after. Others work, with what they give (see README).
VIEW_TYPES = ("NEW_AND_OLD_IMAGES", "NEW_IMAGE", "OLD_IMAGE", "KEYS_ONLY")


class StreamNotUsable(Exception):
    """The table has no enabled stream: the message names the table and what to change."""


@dataclass(frozen=True)
class StreamInfo:
    table: str
    arn: str
    view_type: str


@dataclass(frozen=True)
class Shard:
    id: str
    parent: str | None
    closed: bool  # has an EndingSequenceNumber: no record will be added to it


def streams_client(config: ConnectorConfig) -> JsonClient:
    """DynamoDB Streams at the DynamoDB endpoint when one is configured (DynamoDB Local serves both), else AWS's."""
    region, _ = resolve_region(config)
    endpoint = config["dynamodb.service.endpoint"]
    if not endpoint or ".amazonaws.com" in endpoint:
        endpoint = f"https://streams.dynamodb.{region}.amazonaws.com"
    return JsonClient(endpoint.rstrip("/"), region, resolve_credentials(config), STREAMS_TARGET)


def stream_of(table_description: dict[str, Any]) -> StreamInfo:
    """The table's current stream, from its DescribeTable answer; raises StreamNotUsable saying the fix."""
    name = table_description["TableName"]
    spec = table_description.get("StreamSpecification") or {}
    arn = table_description.get("LatestStreamArn")
    if not spec.get("StreamEnabled") or not arn:
        raise StreamNotUsable(
            f"DynamoDB table '{name}' has no enabled stream, which change data capture reads. Enable DynamoDB "
            f"Streams on it with StreamViewType NEW_AND_OLD_IMAGES (aws dynamodb update-table --table-name {name} "
            "--stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES), or capture it with "
            "dynamodb.table.sync.mode=SNAPSHOT.")
    return StreamInfo(name, arn, spec.get("StreamViewType", "NEW_AND_OLD_IMAGES"))


def list_shards(streams: JsonClient, arn: str) -> list[Shard]:
    """Every shard of the stream (DescribeStream, paged), parents before their children."""
    shards: list[Shard] = []
    request: dict[str, Any] = {"StreamArn": arn}
    while True:
        description = streams.call("DescribeStream", request)["StreamDescription"]
        for s in description.get("Shards", []):
            shards.append(Shard(s["ShardId"], s.get("ParentShardId"),
                                "EndingSequenceNumber" in s.get("SequenceNumberRange", {})))
        last = description.get("LastEvaluatedShardId")
        if not last:
            return lineage_order(shards)
        request["ExclusiveStartShardId"] = last


def lineage_order(shards: list[Shard]) -> list[Shard]:
    """Parents before children (a parent no longer listed, trimmed away, does not hold its child back)."""
    by_id = {s.id: s for s in shards}
    ordered: list[Shard] = []
    seen: set[str] = set()

    def visit(shard: Shard) -> None:
        if shard.id in seen:
            return
        seen.add(shard.id)
        if shard.parent in by_id:
            visit(by_id[shard.parent])
        ordered.append(shard)

    for shard in shards:
        visit(shard)
    return ordered


def is_expired_iterator(error: AwsError) -> bool:
    """The shard iterator is older than 15 minutes: the caller asks for a fresh one after its last position."""
    return error.code == "ExpiredIteratorException"


def is_trimmed(error: AwsError) -> bool:
    """The records at the position are past the 24-hour retention: the caller fails loudly, naming the table."""
    return error.code == "TrimmedDataAccessException"
