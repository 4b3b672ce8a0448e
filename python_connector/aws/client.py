"""Signed JSON-over-HTTP calls to AWS (DynamoDB, DynamoDB Streams), parsed with orjson.

botocore is used only to resolve credentials and sign; the request goes out over a urllib3
pool and the raw page is parsed by orjson. That keeps items in DynamoDB JSON exactly as the
service sent them (numbers as strings, binaries as base64), which is what the envelope's
``document`` carries, and it is ~8x cheaper per item than botocore's response parser.
"""

from __future__ import annotations

import datetime
import logging
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    Credentials,
    DeferredRefreshableCredentials,
    _local_now,
)
from botocore.session import Session

from python_connector.config import ConnectorConfig
from python_connector.config.rules import REGION_IN_HOST
from python_connector.metrics.registry import METRICS

log = logging.getLogger(__name__)

DEFAULT_REGION = "us-east-1"

THROTTLING_CODES = frozenset({
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "LimitExceededException",
})


class AwsError(Exception):
    """An AWS error answer (or a transport failure, code ``ConnectionError``)."""

    def __init__(self, operation: str, code: str, message: str, status: int):
        self.operation = operation
        self.code = code
        self.status = status
        super().__init__(f"{operation} failed: {code}: {message}")

    @property
    def retriable(self) -> bool:
        return self.code in THROTTLING_CODES or self.code == "ConnectionError" or self.status >= 500


def resolve_region(config: ConnectorConfig, session: Session | None = None) -> tuple[str, str]:
    """The signing region and where it came from (for one log line)."""
    if config["aws.region"]:
        return config["aws.region"], "aws.region"
    endpoint = config["dynamodb.service.endpoint"] or ""
    match = REGION_IN_HOST.match(endpoint)
    if match:
        return match.group(1), "dynamodb.service.endpoint"
    chained = (session or Session()).get_config_variable("region") or os.environ.get("AWS_REGION")
    if chained:
        return chained, "the default AWS region chain"
    return DEFAULT_REGION, "the fallback default"


def resolve_credentials(config: ConnectorConfig, session: Session | None = None,
                        now: Callable[[], datetime.datetime] = _local_now) -> Credentials:
    """The credentials to sign with: access keys when given, else the default AWS credential chain
    (environment, profile, container or instance role); with authentication.method='IAM Roles', those
    are the source credentials of an assumed role, refreshed before they expire."""
    session = session or Session()
    key, secret = config["aws.access.key.id"], config["aws.secret.access.key"]
    source = Credentials(key, secret) if key and secret else session.get_credentials()
    if source is None:
        raise AwsError("ResolveCredentials", "NoCredentials",
                       "no aws.access.key.id/aws.secret.access.key given and the default AWS credential chain "
                       "found none", 400)
    if config["authentication.method"] != "IAM Roles":
        return source
    region, _ = resolve_region(config, session)
    extra: dict[str, Any] = {"RoleSessionName": f"ddb-cdc-{(config['name'] or 'connector')[:50]}"}
    if config["aws.iam.external.id"]:
        extra["ExternalId"] = config["aws.iam.external.id"]

    def sts_client(service: str, **kwargs: Any) -> Any:
        return session.create_client(service, region_name=region, endpoint_url=config["aws.sts.endpoint"],
                                     **kwargs)

    fetcher = AssumeRoleCredentialFetcher(sts_client, source, config["provider.integration.id"], extra_args=extra)
    return DeferredRefreshableCredentials(refresh_using=fetcher.fetch_credentials, method="assume-role",
                                          time_fetcher=now)


def endpoint_for(config: ConnectorConfig, region: str) -> str:
    return (config["dynamodb.service.endpoint"] or f"https://dynamodb.{region}.amazonaws.com").rstrip("/")


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off with full jitter for retriable errors, bounded in total elapsed time; once
    ``abandoned`` says so, a failing call fails at once."""

    base_s: float = 0.05
    cap_s: float = 5.0
    max_elapsed_s: float = 120.0
    sleep: Callable[[float], object] = field(default=time.sleep, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)
    abandoned: Callable[[], bool] = field(default=lambda: False, compare=False)

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        return rand() * min(self.cap_s, self.base_s * (2**attempt))


class JsonClient:
    """One AWS JSON-protocol service (``X-Amz-Target`` prefix) at one endpoint."""

    def __init__(self, endpoint: str, region: str, credentials: Credentials, target_prefix: str,
                 service: str = "dynamodb", json_version: str = "1.0", pool_size: int = 32,
                 retry: RetryPolicy | None = None):
        self.endpoint = endpoint
        self._credentials = credentials
        self._service = service
        self._region = region
        self._content_type = f"application/x-amz-json-{json_version}"
        self._prefix = target_prefix
        self._pool = urllib3.PoolManager(maxsize=pool_size, retries=False,
                                         timeout=urllib3.Timeout(connect=5.0, read=60.0))
        self._retry = retry or RetryPolicy()

    def abandon_retries_when(self, event: threading.Event) -> None:
        """Once the event is set, a back-off in progress ends and a failing call fails without retrying: a
        stopped task's threads must not spend the policy's elapsed budget (per call) on a dead endpoint."""
        self._retry = replace(self._retry, sleep=event.wait, abandoned=event.is_set)

    def call(self, operation: str, body: dict[str, Any], retry_throttling: bool = True) -> dict[str, Any]:
        """Calls the operation, retrying retriable errors per the policy (throttling only if retry_throttling);
        returns the parsed answer."""
        payload = orjson.dumps(body)
        started = self._retry.clock()
        attempt = 0
        while True:
            try:
                return self._send(operation, payload)
            except AwsError as e:
                elapsed = self._retry.clock() - started
                given_up = elapsed >= self._retry.max_elapsed_s or self._retry.abandoned()
                if not e.retriable or given_up or (e.code in THROTTLING_CODES and not retry_throttling):
                    raise
                pause = self._retry.delay(attempt)
                METRICS.add("ddbcdc_aws_retries_total", 1, operation=operation)
                if attempt in (3, 10) or attempt % 50 == 49:
                    log.warning("%s still failing after %d attempts (%.0fs): %s; retrying", operation,
                                attempt + 1, elapsed, e)
                attempt += 1
                self._retry.sleep(pause)

    def _send(self, operation: str, payload: bytes) -> dict[str, Any]:
        request = AWSRequest(method="POST", url=self.endpoint + "/", data=payload, headers={
            "Content-Type": self._content_type,
            "X-Amz-Target": f"{self._prefix}.{operation}",
        })
        # Frozen per request, as botocore does: a refresh cannot mix two key pairs in one signature.
        SigV4Auth(self._credentials.get_frozen_credentials(), self._service, self._region).add_auth(request)
        try:
            response = self._pool.request("POST", self.endpoint + "/", body=payload,
                                          headers=dict(request.headers.items()))
        except urllib3.exceptions.HTTPError as e:
            raise AwsError(operation, "ConnectionError", f"{self.endpoint} unreachable ({e.__class__.__name__})",
                           0) from None
        data = orjson.loads(response.data) if response.data else {}
        if response.status != 200:
            code = str(data.get("__type", f"HTTP{response.status}")).rsplit("#", 1)[-1]
            message = data.get("message") or data.get("Message") or ""
            raise AwsError(operation, code, message, response.status)
        return data


def dynamodb_client(config: ConnectorConfig) -> JsonClient:
    region, _ = resolve_region(config)
    return JsonClient(endpoint_for(config, region), region, resolve_credentials(config), "DynamoDB_20120810")


def tagging_client(config: ConnectorConfig) -> JsonClient:
    """The Resource Groups Tagging API at aws.resource.tagging.endpoint (else the region's)."""
    region, _ = resolve_region(config)
    endpoint = (config["aws.resource.tagging.endpoint"] or f"https://tagging.{region}.amazonaws.com").rstrip("/")
    return JsonClient(endpoint, region, resolve_credentials(config), "ResourceGroupsTaggingAPI_20170126",
                      service="tagging", json_version="1.1", pool_size=2)
