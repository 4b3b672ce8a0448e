"""The whole property table through the running worker's REST API: listed, validated, examples clean."""

import json
from pathlib import Path

import pytest
import requests

from python_connector import config
from python_connector.cli.translate import translate

EXAMPLES = Path(__file__).resolve().parents[2] / "config-examples"
PLUGIN = "DynamoDbCdcSource"
BASE = {"connector.class": PLUGIN, "name": "validation", "dynamodb.table.includelist": "orders",
        "aws.access.key.id": "AKIAVALIDATION", "aws.secret.access.key": "validation-secret",
        "dynamodb.service.endpoint": "http://127.0.0.1:18000"}
TAG = {"dynamodb.table.discovery.mode": "TAG", "aws.resource.tagging.endpoint": "http://127.0.0.1:15000",
       "dynamodb.table.tag.filters": "env:prod"}
IAM = {"authentication.method": "IAM Roles", "provider.integration.id": "arn:aws:iam::123456789012:role/r"}

# property -> (settings that make it bad, what its error must say)
BAD = {
    "name": ({"name": "n" * 65}, "at most 64 characters"),
    "kafka.auth.mode": ({"kafka.auth.mode": "OAUTH"}, "must be one of KAFKA_API_KEY, SERVICE_ACCOUNT"),
    "kafka.api.key": ({"kafka.api.secret": "kafka-secret"}, "kafka.api.key is required with kafka.api.secret"),
    "kafka.api.secret": ({"kafka.api.key": "kafka-key"}, "kafka.api.secret is required with kafka.api.key"),
    "kafka.service.account.id": ({"kafka.auth.mode": "SERVICE_ACCOUNT"}, "is required when kafka.auth.mode"),
    "key.subject.name.strategy": ({"key.subject.name.strategy": "Nope"}, "must be one of RecordNameStrategy"),
    "schema.context.name": ({"schema.context.name": "bad context"}, "letters, digits"),
    "value.subject.name.strategy": ({"value.subject.name.strategy": "Nope"}, "TopicRecordNameStrategy"),
    "key.converter.reference.subject.name.strategy": ({"key.converter.reference.subject.name.strategy": "X"},
                                                      "QualifiedReferenceSubjectNameStrategy"),
    "value.converter.reference.subject.name.strategy": ({"value.converter.reference.subject.name.strategy": "X"},
                                                        "QualifiedReferenceSubjectNameStrategy"),
    "authentication.method": ({"authentication.method": "Password"}, "must be one of Access Keys, IAM Roles"),
    "aws.access.key.id": ({"aws.access.key.id": ""}, "aws.access.key.id is required with aws.secret.access.key"),
    "aws.secret.access.key": ({"aws.secret.access.key": ""}, "aws.secret.access.key is required with"),
    "aws.iam.external.id": ({"aws.iam.external.id": "external-id-value-123"},
                            "applies only with authentication.method='IAM Roles'"),
    "aws.sts.endpoint": ({"aws.sts.endpoint": "sts.local"}, "must be an http(s) URL"),
    "provider.integration.id": ({**IAM, "provider.integration.id": "my-role"}, "is not an IAM role ARN"),
    "aws.region": ({"aws.region": "mars-north-9x"}, "not an AWS region name"),
    "output.data.format": ({"output.data.format": "XML"}, "must be one of AVRO, JSON_SR, PROTOBUF, JSON"),
    "output.data.key.format": ({"output.data.key.format": "XML"}, "must be one of AVRO, JSON_SR, PROTOBUF, JSON"),
    "dynamodb.service.endpoint": ({"dynamodb.service.endpoint": "127.0.0.1:18000"}, "must be an http(s) URL"),
    "dynamodb.table.sync.mode": ({"dynamodb.table.sync.mode": "FULL"}, "must be one of SNAPSHOT, CDC, SNAPSHOT_CDC"),
    "dynamodb.table.discovery.mode": ({"dynamodb.table.discovery.mode": "REGEX"}, "must be one of INCLUDELIST, TAG"),
    "aws.resource.tagging.endpoint": ({**TAG, "aws.resource.tagging.endpoint": "tagging"}, "must be an http(s) URL"),
    "dynamodb.table.tag.filters": ({**TAG, "dynamodb.table.tag.filters": "env=prod"}, "<tag-key>:<value-1>"),
    "dynamodb.table.includelist": ({"dynamodb.table.includelist": "ok_table, x"}, "Invalid table name(s)"),
    "dynamodb.table.discovery.interval.ms": ({"dynamodb.table.discovery.interval.ms": "10"},
                                             "must be in [1000, 86400000]"),
    "max.batch.size": ({"max.batch.size": "10001"}, "must be in [100, 10000], got 10001"),
    "poll.linger.ms": ({"poll.linger.ms": "soon"}, "must be a whole number, got 'soon'"),
    "dynamodb.snapshot.max.poll.records": ({"dynamodb.snapshot.max.poll.records": "0"}, "must be in [1, ...]"),
    "dynamodb.snapshot.max.rcu.percentage": ({"dynamodb.snapshot.max.rcu.percentage": "101"}, "must be in [1, 100]"),
    "dynamodb.snapshot.total.segments": ({"dynamodb.snapshot.total.segments": "0"}, "must be in [1, 1000000]"),
    "dynamodb.cdc.initial.stream.position": ({"dynamodb.cdc.initial.stream.position": "EARLIEST"},
                                             "must be one of TRIM_HORIZON, LATEST, AT_TIMESTAMP"),
    "cdc.start.position.timestamp": ({"dynamodb.cdc.initial.stream.position": "AT_TIMESTAMP",
                                      "cdc.start.position.timestamp": "2024-13-45"}, "does not parse with"),
    "cdc.start.position.timestamp.format": ({"cdc.start.position.timestamp.format": "yyyy-QQ-dd"}, "letter 'Q'"),
    "dynamodb.cdc.checkpointing.table.prefix": ({"dynamodb.cdc.checkpointing.table.prefix": "bad/prefix"},
                                                "1 to 200 characters"),
    "dynamodb.cdc.table.billing.mode": ({"dynamodb.cdc.table.billing.mode": "FREE"}, "PROVISIONED, PAY_PER_REQUEST"),
    "dynamodb.cdc.max.poll.records": ({"dynamodb.cdc.max.poll.records": "-5"}, "must be in [1, ...]"),
    "dynamodb.cdc.checkpointing.table.read.capacity": ({"dynamodb.cdc.checkpointing.table.read.capacity": "0"},
                                                       "must be in [1, ...]"),
    "dynamodb.cdc.checkpointing.table.write.capacity": ({"dynamodb.cdc.checkpointing.table.write.capacity": "x"},
                                                        "must be a whole number"),
    "tasks.max": ({"tasks.max": "0"}, "Value must be at least 1"),
    "dynamodb.cdc.heartbeat.topic": ({"dynamodb.cdc.heartbeat.topic": "heart beat"}, "a Kafka topic name has"),
    "dynamodb.cdc.heartbeat.interval.ms": ({"dynamodb.cdc.heartbeat.interval.ms": "10"}, "must be in [1000, 3600000]"),
    "dynamodb.snapshot.strategy": ({"dynamodb.snapshot.strategy": "PARALLEL"}, "must be one of BLOCKING, CONCURRENT"),
    "signal.kafka.topic": ({"signal.kafka.topic": "bad topic", "signal.kafka.bootstrap.servers": "127.0.0.1:9092"},
                           "a Kafka topic name has"),
    "signal.kafka.bootstrap.servers": ({"signal.kafka.topic": "signals"}, "is required with signal.kafka.topic"),
    "document.content.format": ({"document.content.format": "xml"}, "must be one of json_string, schema"),
    "document.schema.source": ({"document.schema.source": "guess"}, "must be one of user_provided, auto_infer"),
    "document.schema.value": ({"document.content.format": "schema", "document.schema.value": '{"type": "string"}'},
                              "it must be an Avro record schema"),
    "document.schema.validation": ({"document.schema.validation": "loose"}, "must be one of strict, lenient"),
    "decimal.handling.mode": ({"decimal.handling.mode": "float"}, "must be one of double, long, string, auto"),
    "engine.mode": ({"engine.mode": "thread"}, "must be one of auto, in-process, process"),
    "engine.python": ({"engine.mode": "process", "engine.python": "/nonexistent/python3"},
                      "could not start in Python '/nonexistent/python3'"),
}


def validate(stack, settings):
    r = requests.put(f"{stack.connect_url}/connector-plugins/{PLUGIN}/config/validate", json=settings, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def errors_of(answer, name):
    return [e for c in answer["configs"] if c["value"]["name"] == name for e in c["value"]["errors"]]


def test_every_documented_property_has_a_bad_value_case():
    assert set(BAD) == {p.name for p in config.PROPERTIES}


def test_the_plugin_lists_the_whole_property_table(stack):
    listed = requests.get(f"{stack.connect_url}/connector-plugins/{PLUGIN}/config", timeout=30).json()
    by_name = {p["name"]: p for p in listed}
    for prop in config.PROPERTIES:
        if prop.name in config.properties.CONNECT_OWNED:
            continue
        assert prop.name in by_name, prop.name
        assert by_name[prop.name]["type"] == prop.type
        assert by_name[prop.name]["documentation"] == prop.documentation
        assert by_name[prop.name]["default_value"] in (None, str(prop.default))


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_value_fails_validation_on_that_property_saying_what_is_allowed(stack, name):
    settings, expected = BAD[name]
    answer = validate(stack, {**BASE, **settings})
    errors = errors_of(answer, name)
    assert any(expected in e for e in errors), f"{name}: {errors}"
    secret_values = {v for k, v in {**BASE, **settings}.items() if config.BY_NAME.get(k) and
                     config.BY_NAME[k].type == "PASSWORD" and v}
    assert not any(s in json.dumps(answer) for s in secret_values), "a secret value is echoed"


def example_configs(stack):
    for path in sorted(EXAMPLES.glob("*.json")):
        data = json.loads(path.read_text())
        if path.name == "iam-policy.json":
            continue
        if path.name == "cloud-config.json":
            data = translate(data)
        yield path.name, {**data["config"], "name": data["name"]}


def test_every_example_config_validates_clean(stack):
    names = []
    for name, settings in example_configs(stack):
        answer = validate(stack, settings)
        problems = {c["value"]["name"]: c["value"]["errors"] for c in answer["configs"] if c["value"]["errors"]}
        assert answer["error_count"] == 0, f"{name}: {problems}"
        names.append(name)
    assert len(names) == 8


def test_secrets_are_masked_in_the_validation_answer(stack):
    answer = validate(stack, {**BASE, "kafka.api.key": "kafka-key-123", "kafka.api.secret": "kafka-secret-456"})
    values = {c["value"]["name"]: c["value"]["value"] for c in answer["configs"]}
    for name in ("aws.secret.access.key", "aws.access.key.id", "kafka.api.key", "kafka.api.secret"):
        assert values[name] == "[hidden]", name
