import pytest

from python_connector import config

GOOD = {"dynamodb.table.includelist": "orders, customers", "dynamodb.service.endpoint": "http://127.0.0.1:8000",
        "dynamodb.table.sync.mode": "SNAPSHOT"}


def test_every_property_has_a_description_group_and_type():
    for prop in config.PROPERTIES:
        assert prop.documentation.strip(), prop.name
        assert prop.group and prop.display_name, prop.name
        assert prop.type in ("STRING", "INT", "LONG", "BOOLEAN", "PASSWORD"), prop.name


def test_definitions_leave_out_the_properties_connect_owns():
    names = {d["name"] for d in config.definitions()}
    assert "name" not in names and "tasks.max" not in names
    assert "dynamodb.table.includelist" in names


def test_a_good_configuration_parses_with_documented_defaults():
    parsed = config.parse(GOOD)
    assert parsed.tables == ["orders", "customers"]
    assert parsed.sync_mode == "SNAPSHOT"
    assert config.BY_NAME["dynamodb.table.sync.mode"].default == "SNAPSHOT_CDC"
    assert parsed["max.batch.size"] == 1000
    assert parsed["poll.linger.ms"] == 5000
    assert parsed["dynamodb.snapshot.total.segments"] == 5


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("max.batch.size", "99", "must be in [100, 10000]"),
    ("max.batch.size", "lots", "must be a whole number"),
    ("poll.linger.ms", "300001", "must be in [0, 300000]"),
    ("dynamodb.table.sync.mode", "FULL", "must be one of SNAPSHOT, CDC, SNAPSHOT_CDC"),
    ("dynamodb.table.includelist", "", "is required when dynamodb.table.discovery.mode=INCLUDELIST"),
    ("dynamodb.table.includelist", "ok_table,a", "Invalid table name(s)"),
    ("name", "x" * 65, "at most 64 characters"),
    ("dynamodb.table.sync.mode", "CDC", "set dynamodb.table.sync.mode=SNAPSHOT"),
    ("dynamodb.table.discovery.mode", "TAG", "not available in this build yet"),
])
def test_each_bad_setting_names_the_property_and_what_is_allowed(name, value, expected):
    problems = config.validate({**GOOD, name: value})
    assert name in problems
    assert any(expected in m for m in problems[name]), problems


def test_a_secret_is_never_echoed_in_a_message():
    problems = config.validate({**GOOD, "aws.secret.access.key": "s3cr3t-value"})
    assert problems == {}
    with pytest.raises(config.ConfigError) as e:
        config.parse({**GOOD, "aws.secret.access.key": "s3cr3t-value", "max.batch.size": "1"})
    assert "s3cr3t-value" not in str(e.value)
