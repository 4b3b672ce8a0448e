"""DynamoDB Streams as a change source: a table's stream, its shards, its pages, and the errors we act on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from python_connector.aws.client import THROTTLING_CODES, AwsError, JsonClient, resolve_credentials, resolve_region
from python_connector.config import ConnectorConfig
from python_connector.streams.source import (
    IteratorExpired,
    Page,
    PositionTrimmed,
    Shard,
    ShardGone,
    StreamInfo,
    Throttled,
    lineage_order,
)

STREAMS_TARGET = "DynamoDBStreams_20120810"
# The images the envelope needs: before and after. Others work, with what they give (see README).
VIEW_TYPES = ("NEW_AND_OLD_IMAGES", "NEW_IMAGE", "OLD_IMAGE", "KEYS_ONLY")
STREAM_RETENTION_MS = 24 * 3600 * 1000


class StreamNotUsable(Exception):
    """The table has no enabled stream: the message names the table and what to change."""


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


def list_shards(streams: JsonClient, arn: str, after: str | None = None) -> list[Shard]:
    """Every shard of the stream (DescribeStream, paged; listed after shard ``after`` if given), parents before
    their children."""
    shards: list[Shard] = []
    request: dict[str, Any] = {"StreamArn": arn}
    if after is not None:
        request["ExclusiveStartShardId"] = after
    while True:
        description = streams.call("DescribeStream", request)["StreamDescription"]
        for s in description.get("Shards", []):
            shards.append(Shard(s["ShardId"], s.get("ParentShardId"),
                                "EndingSequenceNumber" in s.get("SequenceNumberRange", {})))
        last = description.get("LastEvaluatedShardId")
        if not last:
            return lineage_order(shards)
        request["ExclusiveStartShardId"] = last


def is_expired_iterator(error: AwsError) -> bool:
    """The shard iterator is older than 15 minutes: the caller asks for a fresh one after its last position."""
    return error.code == "ExpiredIteratorException"


def is_trimmed(error: AwsError) -> bool:
    """The records at the position are past the 24-hour retention: the caller fails loudly, naming the table."""
    return error.code == "TrimmedDataAccessException"


@dataclass(frozen=True)
class DynamoDbStreams:
    """The ChangeSource of DynamoDB Streams, over its JSON API."""

    client: JsonClient

    def shards(self, stream_arn: str, after: str | None = None) -> list[Shard]:
        return list_shards(self.client, stream_arn, after)

    def iterator(self, stream_arn: str, shard: str, after: str | None, start: str) -> str:
        request = {"StreamArn": stream_arn, "ShardId": shard}
        if after is not None:
            request |= {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
        else:
            request["ShardIteratorType"] = start
        try:
            return str(self._call("GetShardIterator", request)["ShardIterator"])
        except AwsError as e:
            if e.code == "ResourceNotFoundException":  # the stream is checked on each refresh: the shard is gone
                raise ShardGone(f"shard {shard} is no longer listed ({e})") from e
            raise

    def read(self, iterator: str, limit: int) -> Page:
        # Throttling is not retried here: the reader backs off on this shard and reads the others meanwhile.
        page = self._call("GetRecords", {"ShardIterator": iterator, "Limit": limit}, retry_throttling=False)
        return Page(page.get("Records") or [], page.get("NextShardIterator"))

    def _call(self, operation: str, body: dict[str, Any], retry_throttling: bool = True) -> dict[str, Any]:
        """The call, with the stream errors the reader acts on raised as the ChangeSource's own."""
        try:
            return self.client.call(operation, body, retry_throttling)
        except AwsError as e:
            if is_expired_iterator(e):
                raise IteratorExpired(str(e)) from e
            if is_trimmed(e):
                raise PositionTrimmed(str(e)) from e
            if e.code in THROTTLING_CODES:
                raise Throttled(str(e)) from e
            raise
