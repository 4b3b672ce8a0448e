"""Cross-field rules: each a small named function from typed values to (property, message) problems."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from python_connector.config import javatime
from python_connector.records.document_schema import SchemaValueError, parse_avro_record

Values = Mapping[str, Any]
Rule = Callable[[Values], list[tuple[str, str]]]

TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
REGION_IN_HOST = re.compile(r"^https?://[a-z0-9-]+\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com")
REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d$")
NAME_PART = re.compile(r"^[A-Za-z0-9_.-]+$")
TAG_FILTERS_FORM = "<tag-key>:<value-1>,<value-2>;<tag-key>:<value-3>, for example env:prod,staging;team:data"


def parse_includelist(raw: str | None) -> list[str]:
    return [name.strip() for name in (raw or "").split(",") if name.strip()]


def parse_tag_filters(raw: str | None) -> dict[str, list[str]]:
    """``k1:v1,v2;k2:v3`` as {key: [values]}; raises ValueError saying what is malformed."""
    filters: dict[str, list[str]] = {}
    for part in (raw or "").split(";"):
        if not part.strip():
            continue
        key, sep, values = part.partition(":")
        key = key.strip()
        listed = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not key or not listed:
            raise ValueError(f"'{part.strip()}' is not <tag-key>:<value>[,<value>...]")
        if key in filters:
            raise ValueError(f"tag key '{key}' is given twice")
        filters[key] = listed
    if not filters:
        raise ValueError("no filter given")
    return filters


def name_length(values: Values) -> list[tuple[str, str]]:
    name = values["name"]
    if name is not None and len(name) > 64:
        return [("name", f"Invalid value for name: at most 64 characters, got {len(name)}.")]
    return []


def includelist(values: Values) -> list[tuple[str, str]]:
    if values["dynamodb.table.discovery.mode"] != "INCLUDELIST":
        return []
    tables = parse_includelist(values["dynamodb.table.includelist"])
    if not tables:
        return [("dynamodb.table.includelist",
                 "dynamodb.table.includelist is required when dynamodb.table.discovery.mode=INCLUDELIST: "
                 "give a comma-separated list of table names, e.g. orders,customers.")]
    bad = [t for t in tables if not TABLE_NAME.match(t)]
    if bad:
        return [("dynamodb.table.includelist",
                 f"Invalid table name(s) in dynamodb.table.includelist: {', '.join(bad)}. A DynamoDB table name "
                 "has 3 to 255 characters from a-z, A-Z, 0-9, '_', '-' and '.'.")]
    return []


def tag_discovery(values: Values) -> list[tuple[str, str]]:
    if values["dynamodb.table.discovery.mode"] != "TAG":
        return []
    out = []
    if not (values["aws.resource.tagging.endpoint"] or values["aws.region"]
            or REGION_IN_HOST.match(values["dynamodb.service.endpoint"] or "")):
        out.append(("aws.resource.tagging.endpoint",
                    "aws.resource.tagging.endpoint is required when dynamodb.table.discovery.mode=TAG (or set "
                    "aws.region, or an AWS dynamodb.service.endpoint, to derive it)."))
    filters = values["dynamodb.table.tag.filters"]
    try:
        parse_tag_filters(filters)
    except ValueError as e:
        given = f" Got '{filters}': {e}." if filters else ""
        out.append(("dynamodb.table.tag.filters",
                    f"dynamodb.table.tag.filters is required when dynamodb.table.discovery.mode=TAG, in the form "
                    f"{TAG_FILTERS_FORM}.{given}"))
    return out


def endpoints(values: Values) -> list[tuple[str, str]]:
    out = []
    for name in ("dynamodb.service.endpoint", "aws.resource.tagging.endpoint", "aws.sts.endpoint"):
        value = values[name]
        if value and not re.match(r"^https?://[^\s/]+", value):
            out.append((name, f"Invalid value for {name}: must be an http(s) URL such as "
                              f"https://dynamodb.us-east-1.amazonaws.com, got '{value}'."))
    return out


def start_timestamp(values: Values) -> list[tuple[str, str]]:
    pattern = values["cdc.start.position.timestamp.format"]
    try:
        javatime.compile_pattern(pattern)
    except javatime.PatternError as e:
        return [("cdc.start.position.timestamp.format",
                 f"Invalid value for cdc.start.position.timestamp.format: '{pattern}' is not a usable "
                 f"java.time.format.DateTimeFormatter pattern: {e}.")]
    timestamp = values["cdc.start.position.timestamp"]
    if values["dynamodb.cdc.initial.stream.position"] == "AT_TIMESTAMP" and not timestamp:
        return [("cdc.start.position.timestamp",
                 "cdc.start.position.timestamp is required when dynamodb.cdc.initial.stream.position=AT_TIMESTAMP, "
                 f"in the format {pattern}.")]
    if timestamp:
        try:
            javatime.parse(timestamp, pattern)
        except ValueError:
            return [("cdc.start.position.timestamp",
                     f"Invalid value for cdc.start.position.timestamp: '{timestamp}' does not parse with "
                     f"cdc.start.position.timestamp.format={pattern}.")]
    return []


def kafka_credentials(values: Values) -> list[tuple[str, str]]:
    key, secret = values["kafka.api.key"], values["kafka.api.secret"]
    if bool(key) != bool(secret):
        missing = "kafka.api.secret" if key else "kafka.api.key"
        return [(missing, f"{missing} is required with {'kafka.api.key' if key else 'kafka.api.secret'}: give both "
                          "or neither.")]
    if values["kafka.auth.mode"] == "SERVICE_ACCOUNT" and not values["kafka.service.account.id"]:
        return [("kafka.service.account.id",
                 "kafka.service.account.id is required when kafka.auth.mode=SERVICE_ACCOUNT.")]
    return []


def names(values: Values) -> list[tuple[str, str]]:
    """Free-text settings that end up in names (schema contexts, table and topic names, regions) have a form."""
    out = []
    context = values["schema.context.name"]
    if not NAME_PART.match(context or ""):
        out.append(("schema.context.name", f"Invalid value for schema.context.name: '{context}'; a schema context "
                                           "name has letters, digits, '_', '-' and '.' only."))
    prefix = values["dynamodb.cdc.checkpointing.table.prefix"]
    if not NAME_PART.match(prefix or "") or len(prefix) > 200:
        out.append(("dynamodb.cdc.checkpointing.table.prefix",
                    f"Invalid value for dynamodb.cdc.checkpointing.table.prefix: '{prefix}'; it starts DynamoDB "
                    "table names, so 1 to 200 characters from a-z, A-Z, 0-9, '_', '-' and '.'."))
    for name in ("dynamodb.cdc.heartbeat.topic", "signal.kafka.topic"):
        topic = values[name]
        if (topic or name != "signal.kafka.topic") and (
                not NAME_PART.match(topic or "") or len(topic) > 249 or topic in (".", "..")):
            out.append((name, f"Invalid value for {name}: '{topic}'; a Kafka topic name has 1 to 249 characters "
                              "from a-z, A-Z, 0-9, '_', '-' and '.'."))
    region = values["aws.region"]
    if region and not REGION.match(region):
        out.append(("aws.region", f"Invalid value for aws.region: '{region}' is not an AWS region name such as "
                                  "us-east-1."))
    return out


def aws_credentials(values: Values) -> list[tuple[str, str]]:
    out = []
    key, secret = values["aws.access.key.id"], values["aws.secret.access.key"]
    if bool(key) != bool(secret):
        missing = "aws.secret.access.key" if key else "aws.access.key.id"
        out.append((missing, f"{missing} is required with "
                             f"{'aws.access.key.id' if key else 'aws.secret.access.key'}: give both, or neither to "
                             "use the default AWS credential chain."))
    role = values["provider.integration.id"]
    if values["authentication.method"] == "IAM Roles":
        if not role:
            out.append(("provider.integration.id",
                        "provider.integration.id is required when authentication.method='IAM Roles': give the ARN "
                        "of the role to assume, e.g. arn:aws:iam::123456789012:role/dynamodb-cdc."))
        elif not ROLE_ARN.match(role):
            out.append(("provider.integration.id",
                        f"Invalid value for provider.integration.id: '{role}' is not an IAM role ARN "
                        "(arn:aws:iam::<12-digit account>:role/<name>)."))
    else:
        for name in ("provider.integration.id", "aws.iam.external.id"):
            if values[name]:
                out.append((name, f"{name} applies only with authentication.method='IAM Roles'; set that, or "
                                  f"remove {name}."))
    return out


def document_schema(values: Values) -> list[tuple[str, str]]:
    """A user-provided document schema is given, and is an Avro record schema we can follow."""
    if values["document.content.format"] != "schema" or values["document.schema.source"] != "user_provided":
        return []
    text = values["document.schema.value"]
    if not text or not text.strip():
        return [("document.schema.value",
                 "document.schema.value is required when document.content.format=schema and "
                 "document.schema.source=user_provided: give an Avro record schema as JSON, e.g. "
                 '{"type":"record","name":"User","fields":[{"name":"id","type":"string"}]}, or set '
                 "document.schema.source=auto_infer.")]
    try:
        parse_avro_record(text)
    except SchemaValueError as e:
        return [("document.schema.value", f"Invalid value for document.schema.value: it must be an Avro record "
                                          f"schema (JSON): {e}.")]
    return []


def signals(values: Values) -> list[tuple[str, str]]:
    if values["signal.kafka.topic"] and not values["signal.kafka.bootstrap.servers"]:
        return [("signal.kafka.bootstrap.servers", "signal.kafka.bootstrap.servers is required with "
                                                   "signal.kafka.topic: the Kafka cluster the signals are read from.")]
    if values["signal.kafka.topic"] and values["dynamodb.table.sync.mode"] == "SNAPSHOT":
        return [("signal.kafka.topic", "signal.kafka.topic needs a stream to read with the ad-hoc snapshots: use "
                                       "dynamodb.table.sync.mode=SNAPSHOT_CDC or CDC.")]
    return []


RULES: tuple[Rule, ...] = (
    name_length,
    includelist,
    tag_discovery,
    endpoints,
    start_timestamp,
    kafka_credentials,
    names,
    aws_credentials,
    document_schema,
    signals,
)
