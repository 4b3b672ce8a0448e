import pytest

from python_connector import config

GOOD = {"dynamodb.table.includelist": "orders, customers", "dynamodb.service.endpoint": "http://127.0.0.1:8000"}
TAG = {"dynamodb.table.discovery.mode": "TAG", "aws.resource.tagging.endpoint": "http://127.0.0.1:5000",
       "dynamodb.table.tag.filters": "env:prod,staging;team:data"}
ROLE = "arn:aws:iam::123456789012:role/dynamodb-cdc"


def test_every_property_has_a_description_group_and_type():
    for prop in config.PROPERTIES:
        assert prop.documentation.strip(), prop.name
        assert prop.group and prop.display_name, prop.name
        assert prop.type in ("STRING", "INT", "LONG", "BOOLEAN", "PASSWORD"), prop.name


def test_secrets_are_password_typed():
    for name in ("kafka.api.key", "kafka.api.secret", "aws.access.key.id", "aws.secret.access.key",
                 "aws.iam.external.id"):
        assert config.BY_NAME[name].type == "PASSWORD"


def test_definitions_leave_out_the_properties_connect_owns():
    names = {d["name"] for d in config.definitions()}
    assert "name" not in names and "tasks.max" not in names
    assert names == {p.name for p in config.PROPERTIES} - {"name", "tasks.max"}


def test_a_good_configuration_parses_with_documented_defaults():
    parsed = config.parse(GOOD)
    assert parsed.tables == ["orders", "customers"]
    assert parsed.sync_mode == "SNAPSHOT_CDC"
    assert (parsed["max.batch.size"], parsed["poll.linger.ms"]) == (1000, 5000)
    assert parsed["dynamodb.snapshot.total.segments"] == 5
    assert parsed["cdc.start.position.timestamp.format"] == "yyyy-MM-dd'T'HH:mm:ss'Z'"
    assert parsed["output.data.format"] == "AVRO"


@pytest.mark.parametrize("extra", [
    TAG,
    {"dynamodb.table.discovery.mode": "TAG", "aws.region": "eu-west-1", "dynamodb.table.tag.filters": "env:prod"},
    {"dynamodb.cdc.initial.stream.position": "AT_TIMESTAMP", "cdc.start.position.timestamp": "2024-07-01T00:00:00Z"},
    {"cdc.start.position.timestamp.format": "dd/MM/yyyy HH:mm", "cdc.start.position.timestamp": "01/07/2024 10:20",
     "dynamodb.cdc.initial.stream.position": "AT_TIMESTAMP"},
    {"authentication.method": "IAM Roles", "provider.integration.id": ROLE, "aws.iam.external.id": "ext"},
    {"kafka.api.key": "K", "kafka.api.secret": "S"},
    {"kafka.auth.mode": "SERVICE_ACCOUNT", "kafka.service.account.id": "sa-123"},
    {"output.data.format": "JSON", "output.data.key.format": "JSON"},
])
def test_valid_combinations_have_no_problems(extra):
    assert config.validate({**GOOD, **extra}) == {}


@pytest.mark.parametrize(("extra", "name", "expected"), [
    ({"max.batch.size": "99"}, "max.batch.size", "must be in [100, 10000], got 99"),
    ({"max.batch.size": "lots"}, "max.batch.size", "must be a whole number, got 'lots'"),
    ({"poll.linger.ms": "300001"}, "poll.linger.ms", "must be in [0, 300000]"),
    ({"dynamodb.table.sync.mode": "FULL"}, "dynamodb.table.sync.mode", "must be one of SNAPSHOT, CDC, SNAPSHOT_CDC"),
    ({"dynamodb.table.includelist": ""}, "dynamodb.table.includelist", "is required when"),
    ({"dynamodb.table.includelist": "ok_table,a"}, "dynamodb.table.includelist", "Invalid table name(s)"),
    ({"name": "x" * 65}, "name", "at most 64 characters"),
    ({**TAG, "aws.resource.tagging.endpoint": None}, "aws.resource.tagging.endpoint", "is required when"),
    ({**TAG, "dynamodb.table.tag.filters": "env"}, "dynamodb.table.tag.filters", "in the form <tag-key>:<value-1>"),
    ({**TAG, "dynamodb.table.tag.filters": "env:a;env:b"}, "dynamodb.table.tag.filters", "given twice"),
    ({"dynamodb.cdc.initial.stream.position": "AT_TIMESTAMP"}, "cdc.start.position.timestamp", "is required when"),
    ({"cdc.start.position.timestamp": "yesterday"}, "cdc.start.position.timestamp", "does not parse with"),
    ({"cdc.start.position.timestamp.format": "yyyy-QQ"}, "cdc.start.position.timestamp.format", "letter 'Q'"),
    ({"kafka.api.key": "K"}, "kafka.api.secret", "give both or neither"),
    ({"kafka.auth.mode": "SERVICE_ACCOUNT"}, "kafka.service.account.id", "is required when"),
    ({"aws.access.key.id": "AKIA"}, "aws.secret.access.key", "give both"),
    ({"authentication.method": "IAM Roles"}, "provider.integration.id", "is required when"),
    ({"authentication.method": "IAM Roles", "provider.integration.id": "role"}, "provider.integration.id",
     "is not an IAM role ARN"),
    ({"provider.integration.id": ROLE}, "provider.integration.id", "applies only with"),
    ({"aws.iam.external.id": "x"}, "aws.iam.external.id", "applies only with"),
    ({"dynamodb.service.endpoint": "localhost:8000"}, "dynamodb.service.endpoint", "must be an http(s) URL"),
    ({"aws.region": "moon-1"}, "aws.region", "not an AWS region name"),
    ({"schema.context.name": "a:b"}, "schema.context.name", "letters, digits"),
    ({"dynamodb.cdc.checkpointing.table.prefix": "bad prefix"}, "dynamodb.cdc.checkpointing.table.prefix",
     "1 to 200 characters"),
])
def test_each_bad_setting_names_the_property_and_what_is_allowed(extra, name, expected):
    problems = config.validate({**GOOD, **extra})
    assert name in problems, problems
    assert any(expected in m for m in problems[name]), problems


def test_a_secret_is_never_echoed_in_a_message():
    with pytest.raises(config.ConfigError) as e:
        config.parse({**GOOD, "aws.secret.access.key": "s3cr3t-value", "max.batch.size": "1"})
    assert "s3cr3t-value" not in str(e.value)
    assert "aws.secret.access.key" in str(e.value)  # named, since the key id is missing


def test_a_misspelt_property_draws_a_warning_naming_the_nearest_known_one():
    warnings = config.unknown_property_warnings({**GOOD, "dynamodb.table.includlist": "x", "tasks.max": "1",
                                                 "connector.class": "X", "transforms.r.type": "y",
                                                 "totally.unrelated": "z"})
    assert warnings == [
        "Unknown property 'dynamodb.table.includlist' is ignored; did you mean 'dynamodb.table.includelist'?",
        "Unknown property 'totally.unrelated' is ignored",
    ]
