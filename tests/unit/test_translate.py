import json

import pytest

from python_connector.cli import main as cli
from python_connector.cli.translate import translate
from python_connector.config import ConfigError
from python_connector.config import validate as config_problems

CLOUD = {"config": {
    "connector.class": "DynamoDbCdcSource", "name": "DynamoDbCdcSourceConnector_0",
    "kafka.auth.mode": "KAFKA_API_KEY", "kafka.api.key": "KEY1", "kafka.api.secret": 'se"cret',
    "output.data.format": "JSON", "output.data.key.format": "JSON",
    "dynamodb.table.includelist": "t1, t2", "tasks.max": "1",
}}


def test_api_key_becomes_producer_sasl_overrides_and_leaves_the_config():
    out = translate(CLOUD)
    config = out["config"]
    assert out["name"] == "DynamoDbCdcSourceConnector_0"
    assert config["connector.class"] == "io.ddbcdc.connect.DynamoDbCdcSourceConnector"
    assert config["producer.override.security.protocol"] == "SASL_SSL"
    assert config["producer.override.sasl.mechanism"] == "PLAIN"
    assert config["producer.override.sasl.jaas.config"] == (
        'org.apache.kafka.common.security.plain.PlainLoginModule required username="KEY1" password="se\\"cret";')
    assert "kafka.api.key" not in config and "kafka.api.secret" not in config
    assert config["dynamodb.table.includelist"] == "t1, t2"


def test_json_format_selects_the_json_converter_without_schemas_as_clouds_json_is_plain():
    config = translate(CLOUD)["config"]
    assert config["value.converter"] == "org.apache.kafka.connect.json.JsonConverter"
    assert config["value.converter.schemas.enable"] == "false"
    assert config["key.converter"] == "org.apache.kafka.connect.json.JsonConverter"


def test_schema_registry_formats_need_a_registry_url_and_carry_the_subject_strategy():
    cloud = {"config": {**CLOUD["config"], "output.data.format": "AVRO", "output.data.key.format": "PROTOBUF",
                        "value.subject.name.strategy": "TopicRecordNameStrategy",
                        "value.converter.reference.subject.name.strategy": "QualifiedReferenceSubjectNameStrategy"}}
    with pytest.raises(ConfigError, match="needs a schema registry"):
        translate(cloud)
    config = translate(cloud, "http://127.0.0.1:8081", "SRKEY:srsecret")["config"]
    assert config["value.converter"] == "io.ddbcdc.connect.converters.AvroConverter"
    assert config["value.converter.schema.registry.url"] == "http://127.0.0.1:8081"
    assert config["value.converter.value.subject.name.strategy"] == (
        "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy")
    assert config["value.converter.basic.auth.credentials.source"] == "USER_INFO"
    assert config["key.converter.basic.auth.user.info"] == "SRKEY:srsecret"
    assert config["key.converter"] == "io.ddbcdc.connect.converters.ProtobufConverter"
    # already the converter's own setting: it passes through as given
    assert config["value.converter.reference.subject.name.strategy"] == "QualifiedReferenceSubjectNameStrategy"
    assert config_problems({**config, "dynamodb.table.includelist": "orders"}) == {}


def test_avro_is_the_default_format():
    cloud = {"config": {k: v for k, v in CLOUD["config"].items() if not k.startswith("output.data")}}
    config = translate(cloud, "http://sr")["config"]
    assert config["value.converter"] == config["key.converter"] == "io.ddbcdc.connect.converters.AvroConverter"


def test_topics_get_creation_defaults_for_cdc_topics_unless_given():
    config = translate(CLOUD)["config"]
    assert config["topic.creation.default.cleanup.policy"] == "compact"
    assert config["topic.creation.default.partitions"] == config["topic.creation.default.replication.factor"] == "-1"
    cloud = {"config": {**CLOUD["config"], "topic.creation.default.cleanup.policy": "delete"}}
    assert translate(cloud)["config"]["topic.creation.default.cleanup.policy"] == "delete"


def test_service_account_mode_uses_the_workers_identity():
    cloud = {"config": {**CLOUD["config"], "kafka.auth.mode": "SERVICE_ACCOUNT", "kafka.service.account.id": "sa-1"}}
    del cloud["config"]["kafka.api.key"], cloud["config"]["kafka.api.secret"]
    assert not any(k.startswith("producer.override.") for k in translate(cloud)["config"])


def test_half_a_key_pair_is_refused():
    cloud = {"config": {**CLOUD["config"]}}
    del cloud["config"]["kafka.api.secret"]
    with pytest.raises(ConfigError, match=r"kafka\.api\.secret"):
        translate(cloud)


def test_cli_prints_the_translation(tmp_path, capsys):
    path = tmp_path / "cloud.json"
    path.write_text(json.dumps(CLOUD))
    assert cli.main(["translate", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["config"]["producer.override.sasl.mechanism"] == "PLAIN"
