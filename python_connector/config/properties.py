"""The connector's property table: the one source of truth.

Every property of Confluent Cloud's "Amazon DynamoDB CDC Source" is declared once here with its
type, default, valid values, group and documentation (plus a few of ours, marked as such). The Java
shim builds Connect's ``ConfigDef`` from :func:`definitions`, so ``GET /connector-plugins/.../config``
lists this table, and ``PUT .../config/validate`` answers from :func:`python_connector.config.validate`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CONNECT_GROUP = "How should we connect to your data?"
KAFKA_GROUP = "Kafka Cluster credentials"
SCHEMA_GROUP = "Schema Config"
AWS_GROUP = "AWS credentials"
OUTPUT_GROUP = "Output messages"
DYNAMODB_GROUP = "DynamoDB Details"
SNAPSHOT_GROUP = "Snapshot Details"
CDC_GROUP = "CDC Details"
ENGINE_GROUP = "Engine process (self-managed)"
SIGNAL_GROUP = "Signals"

SYNC_MODES = ("SNAPSHOT", "CDC", "SNAPSHOT_CDC")
DISCOVERY_MODES = ("INCLUDELIST", "TAG")
FORMATS = ("AVRO", "JSON_SR", "PROTOBUF", "JSON")
STREAM_POSITIONS = ("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP")
DOCUMENT_FORMATS = ("json_string", "schema")
DOCUMENT_SOURCES = ("user_provided", "auto_infer")
DOCUMENT_VALIDATIONS = ("strict", "lenient")
DECIMAL_MODES = ("double", "long", "string", "auto")
ENGINE_MODES = ("auto", "in-process", "process")
SNAPSHOT_STRATEGIES = ("BLOCKING", "CONCURRENT")

# Connect itself owns and validates these; they are in the table for documentation only.
CONNECT_OWNED = frozenset({"name", "tasks.max"})


@dataclass(frozen=True)
class Property:
    """One connector property, in the shape Connect's ConfigDef.define takes."""

    name: str
    type: str  # a ConfigDef.Type name: STRING, INT, LONG, BOOLEAN, PASSWORD
    default: Any
    importance: str  # HIGH, MEDIUM, LOW
    group: str
    display_name: str
    documentation: str
    valid_values: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None

    def describe(self, order: int) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "default": self.default,
            "required": False,
            "importance": self.importance,
            "group": self.group,
            "orderInGroup": order,
            "displayName": self.display_name,
            "documentation": self.documentation,
        }


def _p(name: str, type_: str, default: Any, importance: str, group: str, display: str, doc: str, **kw: Any) -> Property:
    return Property(name, type_, default, importance, group, display, doc, **kw)


PROPERTIES: tuple[Property, ...] = (
    _p("name", "STRING", None, "HIGH", CONNECT_GROUP, "Connector name",
       "Sets a name for your connector. A string at most 64 characters long."),
    _p("kafka.auth.mode", "STRING", "KAFKA_API_KEY", "HIGH", KAFKA_GROUP, "Kafka authentication mode",
       "Kafka Authentication mode: KAFKA_API_KEY or SERVICE_ACCOUNT. On a self-managed worker the worker owns "
       "the Kafka connection; `ddb-cdc translate` turns an API key into producer overrides.",
       valid_values=("KAFKA_API_KEY", "SERVICE_ACCOUNT")),
    _p("kafka.api.key", "PASSWORD", None, "HIGH", KAFKA_GROUP, "Kafka API key",
       "Kafka API Key. Required when kafka.auth.mode==KAFKA_API_KEY and the key is to be applied."),
    _p("kafka.service.account.id", "STRING", None, "HIGH", KAFKA_GROUP, "Kafka service account",
       "The Service Account that will be used to generate the API keys to communicate with Kafka Cluster."),
    _p("kafka.api.secret", "PASSWORD", None, "HIGH", KAFKA_GROUP, "Kafka API secret",
       "Secret associated with Kafka API key. Required when kafka.auth.mode==KAFKA_API_KEY."),
    _p("key.subject.name.strategy", "STRING", "TopicNameStrategy", "MEDIUM", SCHEMA_GROUP,
       "Key subject name strategy",
       "How to construct the subject name under which the key schema is registered with Schema Registry. Takes "
       "effect through the key converter's key.subject.name.strategy (`ddb-cdc translate` sets it).",
       valid_values=("RecordNameStrategy", "TopicNameStrategy")),
    _p("schema.context.name", "STRING", "default", "MEDIUM", SCHEMA_GROUP, "Schema context",
       "A schema context name: an independent scope in Schema Registry. Only 'default' (the registry's default "
       "context) is supported on a self-managed worker."),
    _p("value.subject.name.strategy", "STRING", "TopicNameStrategy", "MEDIUM", SCHEMA_GROUP,
       "Value subject name strategy",
       "How to construct the subject name under which the value schema is registered with Schema Registry. Takes "
       "effect through the value converter's value.subject.name.strategy (`ddb-cdc translate` sets it).",
       valid_values=("RecordNameStrategy", "TopicNameStrategy", "TopicRecordNameStrategy")),
    _p("key.converter.reference.subject.name.strategy", "STRING", "DefaultReferenceSubjectNameStrategy", "MEDIUM",
       SCHEMA_GROUP, "Key reference subject strategy",
       "Subject reference name strategy for the key (PROTOBUF only): the subject of each imported .proto file. "
       "A setting of the key converter itself.",
       valid_values=("DefaultReferenceSubjectNameStrategy", "QualifiedReferenceSubjectNameStrategy")),
    _p("value.converter.reference.subject.name.strategy", "STRING", "DefaultReferenceSubjectNameStrategy", "MEDIUM",
       SCHEMA_GROUP, "Value reference subject strategy",
       "Subject reference name strategy for the value (PROTOBUF only): the subject of each imported .proto file "
       "(io.confluent.connector.dynamodb.Source, a table's Value). A setting of the value converter itself.",
       valid_values=("DefaultReferenceSubjectNameStrategy", "QualifiedReferenceSubjectNameStrategy")),
    _p("authentication.method", "STRING", "Access Keys", "HIGH", AWS_GROUP, "AWS authentication method",
       "How to authenticate with AWS: 'Access Keys' (aws.access.key.id/aws.secret.access.key, or the default "
       "AWS credential chain when they are empty) or 'IAM Roles' (assume provider.integration.id, a role ARN).",
       valid_values=("Access Keys", "IAM Roles")),
    _p("aws.access.key.id", "PASSWORD", None, "HIGH", AWS_GROUP, "AWS access key ID",
       "AWS access key ID. When empty the default AWS credential chain is used."),
    _p("provider.integration.id", "STRING", None, "HIGH", AWS_GROUP, "Provider integration (role ARN)",
       "With authentication.method='IAM Roles': the ARN of the IAM role to assume."),
    _p("aws.secret.access.key", "PASSWORD", None, "HIGH", AWS_GROUP, "AWS secret access key",
       "AWS secret access key, paired with aws.access.key.id."),
    _p("aws.iam.external.id", "PASSWORD", None, "LOW", AWS_GROUP, "IAM role external ID",
       "(Self-managed only.) The external ID to pass when assuming provider.integration.id, if the role's "
       "trust policy requires one."),
    _p("aws.sts.endpoint", "STRING", None, "LOW", AWS_GROUP, "AWS STS endpoint",
       "(Self-managed only.) The AWS STS endpoint used to assume provider.integration.id. Default: the "
       "regional STS endpoint."),
    _p("aws.region", "STRING", None, "MEDIUM", AWS_GROUP, "AWS region",
       "(Self-managed only.) AWS region to sign requests for. Default: derived from dynamodb.service.endpoint, "
       "else the default AWS region chain (AWS_REGION, profile), else us-east-1."),
    _p("output.data.format", "STRING", "AVRO", "HIGH", OUTPUT_GROUP, "Output value format",
       "The output Kafka record value format: AVRO, JSON_SR, PROTOBUF or JSON. On a self-managed worker the "
       "value converter does the formatting (io.ddbcdc.connect.converters.AvroConverter, JsonSchemaConverter, "
       "ProtobufConverter, or Kafka's JsonConverter); `ddb-cdc translate` sets it, and a value.converter that "
       "does not write this format fails validation.",
       valid_values=FORMATS),
    _p("output.data.key.format", "STRING", "AVRO", "HIGH", OUTPUT_GROUP, "Output key format",
       "The output Kafka record key format: AVRO, JSON_SR, PROTOBUF or JSON, written by the key converter (see "
       "output.data.format).", valid_values=FORMATS),
    _p("document.content.format", "STRING", "json_string", "HIGH", OUTPUT_GROUP, "Document content format",
       "What before.document and after.document hold. json_string: the item as a DynamoDB-JSON string. schema: a "
       "typed struct with one field per attribute (see document.schema.source), so AVRO, JSON_SR and PROTOBUF carry "
       "real columns; costs schema inference or checking per record.", valid_values=DOCUMENT_FORMATS),
    _p("document.schema.source", "STRING", "user_provided", "MEDIUM", OUTPUT_GROUP, "Document schema source",
       "With document.content.format=schema: user_provided checks each item against the Avro record schema in "
       "document.schema.value; auto_infer infers the schema from the items read (a new attribute adds an optional "
       "field, a BACKWARD compatible new version).", valid_values=DOCUMENT_SOURCES),
    _p("document.schema.value", "STRING", None, "MEDIUM", OUTPUT_GROUP, "Document schema (Avro)",
       "With document.schema.source=user_provided (required then): an Avro record schema as JSON text, e.g. "
       '{"type":"record","name":"User","fields":[{"name":"id","type":"string"},'
       '{"name":"name","type":["null","string"]}]}. A field that is not nullable and has no default is mandatory.'),
    _p("document.schema.validation", "STRING", "strict", "MEDIUM", OUTPUT_GROUP, "Document schema validation",
       "With user_provided: strict fails a record with an extra attribute, a missing mandatory field or a type "
       "mismatch; lenient drops extra attributes and still fails the other two. A failing record fails the task, "
       "unless errors.tolerance=all, which skips it (counted in ddbcdc_documents_skipped_total, logged with its "
       "key).", valid_values=DOCUMENT_VALIDATIONS),
    _p("decimal.handling.mode", "STRING", "double", "MEDIUM", OUTPUT_GROUP, "Decimal handling mode",
       "With auto_infer, how a DynamoDB N maps: double (FLOAT64), long (INT64), string (STRING, the number exactly "
       "as stored) or auto (INT32, INT64 or FLOAT64 by value, widening as values grow). A number the mode cannot "
       "hold exactly goes, as DynamoDB JSON, to the struct's _ddb_overflow field.", valid_values=DECIMAL_MODES),
    _p("dynamodb.service.endpoint", "STRING", None, "HIGH", DYNAMODB_GROUP, "DynamoDB endpoint",
       "AWS DynamoDB API endpoint, for example https://dynamodb.us-east-1.amazonaws.com or a DynamoDB Local URL."),
    _p("dynamodb.table.sync.mode", "STRING", "SNAPSHOT_CDC", "HIGH", DYNAMODB_GROUP, "Table sync mode",
       "SNAPSHOT_CDC: snapshot, then CDC from DynamoDB Streams; SNAPSHOT: snapshot only; CDC: CDC only.",
       valid_values=SYNC_MODES),
    _p("dynamodb.table.discovery.mode", "STRING", "INCLUDELIST", "HIGH", DYNAMODB_GROUP, "Table discovery mode",
       "INCLUDELIST: the tables named in dynamodb.table.includelist; TAG: tables whose tags match "
       "dynamodb.table.tag.filters, found through the Resource Groups Tagging API.",
       valid_values=DISCOVERY_MODES),
    _p("aws.resource.tagging.endpoint", "STRING", None, "HIGH", DYNAMODB_GROUP, "Resource tagging endpoint",
       "AWS Resource Groups Tagging API endpoint. Required if dynamodb.table.discovery.mode is TAG."),
    _p("dynamodb.table.tag.filters", "STRING", None, "HIGH", DYNAMODB_GROUP, "Table tag filters",
       "Semicolon-separated <tag-key>:<value-1>,<value-2> pairs, e.g. key1:v1,v2;key2:v3. A table matches when, "
       "for every key listed, its tag has one of the listed values."),
    _p("dynamodb.cdc.heartbeat.topic", "STRING", "__dynamodb-cdc-heartbeat", "LOW", CDC_GROUP, "Heartbeat topic",
       "(Self-managed only.) The topic of the small records that carry offsets Connect cannot store otherwise "
       "(a record is the only way a source task stores an offset): the TypeA and TypeC offsets when a table's "
       "change data capture starts, and the positions of idle shards. Key: struct io.ddbcdc.dynamodb.HeartbeatKey "
       "{tableName}; value: struct io.ddbcdc.dynamodb.Heartbeat {tableName, offset (JSON)}. Never a table's "
       "data; compaction suits it."),
    _p("dynamodb.cdc.heartbeat.interval.ms", "LONG", 300000, "LOW", CDC_GROUP, "Heartbeat interval (ms)",
       "(Self-managed only.) How often, in milliseconds, a shard with no new changes has its stored position "
       "renewed with the time it was last read to its end (a record on dynamodb.cdc.heartbeat.topic), in "
       "[1000, 3600000]. A position whose record is past the 24-hour retention is then known to have nothing "
       "unread behind it, so a restart after a quiet day goes on instead of failing.",
       minimum=1000, maximum=3_600_000),
    _p("dynamodb.table.discovery.interval.ms", "LONG", 60000, "LOW", DYNAMODB_GROUP, "Table discovery interval (ms)",
       "(Self-managed only.) With dynamodb.table.discovery.mode=TAG: how often, in milliseconds, the tag filters "
       "are evaluated again, in [1000, 86400000]. A newly matching table starts by the sync mode; a table that "
       "stops matching stops being read and keeps its offsets. Shorter finds tables sooner, at one "
       "tag:GetResources and one dynamodb:ListTables call per interval.", minimum=1000, maximum=86_400_000),
    _p("dynamodb.table.includelist", "STRING", None, "HIGH", DYNAMODB_GROUP, "Tables include list",
       "Comma-separated DynamoDB table names to capture. Required if dynamodb.table.discovery.mode is INCLUDELIST."),
    _p("max.batch.size", "INT", 1000, "MEDIUM", DYNAMODB_GROUP, "Maximum batch size",
       "The maximum number of records one poll returns to Connect, in [100, 10000]. Larger batches cross the "
       "bridge less often; smaller ones bound memory and latency.", minimum=100, maximum=10000),
    _p("poll.linger.ms", "LONG", 5000, "MEDIUM", DYNAMODB_GROUP, "Poll linger (ms)",
       "The maximum time in milliseconds a poll waits to fill a batch, in [0, 300000]. It returns early once "
       "max.batch.size records are ready, and returns an empty batch if none came.", minimum=0, maximum=300000),
    _p("dynamodb.snapshot.max.poll.records", "INT", 1000, "MEDIUM", SNAPSHOT_GROUP, "Max records per scan",
       "Scan Limit: the maximum number of items one Scan request returns (DynamoDB also caps a page at 1 MB).",
       minimum=1),
    _p("dynamodb.snapshot.max.rcu.percentage", "INT", 50, "MEDIUM", SNAPSHOT_GROUP, "Snapshot RCU percentage",
       "Percentage of the table's read capacity the snapshot may consume, in [1, 100].", minimum=1, maximum=100),
    _p("dynamodb.snapshot.strategy", "STRING", "BLOCKING", "MEDIUM", SNAPSHOT_GROUP, "Snapshot strategy",
       "(Self-managed only.) With SNAPSHOT_CDC, how a table's snapshot and its change events are ordered. BLOCKING: "
       "a table's change events start once all its snapshot records are in Kafka (the scan must end within the "
       "stream's 24-hour retention). CONCURRENT: the table's stream is read from the snapshot's start while its "
       "segments are scanned (with ConsistentRead), each page held until the stream has been read past it and "
       "stripped of the keys that changed around its read, so changes reach Kafka at once and a scan may outlast "
       "the retention.", valid_values=SNAPSHOT_STRATEGIES),
    _p("dynamodb.cdc.initial.stream.position", "STRING", "TRIM_HORIZON", "MEDIUM", CDC_GROUP,
       "Initial stream position",
       "Where a shard without a checkpoint starts: TRIM_HORIZON (oldest record), LATEST (new records only) or "
       "AT_TIMESTAMP (cdc.start.position.timestamp).", valid_values=STREAM_POSITIONS),
    _p("cdc.start.position.timestamp", "STRING", None, "MEDIUM", CDC_GROUP, "CDC start timestamp",
       "With AT_TIMESTAMP: the server-side timestamp to start from, in cdc.start.position.timestamp.format."),
    _p("cdc.start.position.timestamp.format", "STRING", "yyyy-MM-dd'T'HH:mm:ss'Z'", "MEDIUM", CDC_GROUP,
       "CDC start timestamp format", "A java.time.format.DateTimeFormatter pattern for cdc.start.position.timestamp."),
    _p("dynamodb.cdc.checkpointing.table.prefix", "STRING", "connect-KCL-", "MEDIUM", CDC_GROUP,
       "Checkpointing table prefix",
       "Prefix of the lease/checkpoint tables; must be unique per connector."),
    _p("dynamodb.cdc.table.billing.mode", "STRING", "PROVISIONED", "MEDIUM", CDC_GROUP, "Checkpoint billing mode",
       "Billing mode of the checkpoint table: PROVISIONED or PAY_PER_REQUEST.",
       valid_values=("PROVISIONED", "PAY_PER_REQUEST")),
    _p("dynamodb.cdc.max.poll.records", "INT", 5000, "MEDIUM", CDC_GROUP, "Max records per GetRecords",
       "Maximum records one DynamoDB Streams GetRecords returns (the service caps a call at 1000).", minimum=1),
    _p("dynamodb.cdc.checkpointing.table.read.capacity", "INT", 50, "LOW", CDC_GROUP, "Checkpoint read capacity",
       "Read capacity units of the checkpoint table (PROVISIONED billing).", minimum=1),
    _p("dynamodb.cdc.checkpointing.table.write.capacity", "INT", 50, "LOW", CDC_GROUP, "Checkpoint write capacity",
       "Write capacity units of the checkpoint table (PROVISIONED billing).", minimum=1),
    _p("dynamodb.snapshot.total.segments", "INT", 5, "LOW", SNAPSHOT_GROUP, "Parallel scan segments",
       "(Self-managed only.) Segments of the parallel Scan per table (the documented behaviour is 5), in [1, 1000000].",
       minimum=1, maximum=1_000_000),
    _p("engine.mode", "STRING", "auto", "LOW", ENGINE_GROUP, "Engine mode",
       "(Self-managed only.) Where the Python engine runs: in-process (inside a worker started by `ddb-cdc worker`, "
       "no crossing cost), process (one Python child process per task, plus one per worker for the connector, over "
       "a Unix socket: works in any stock Kafka Connect worker, at the cost of copying each batch once) or auto "
       "(in-process when the worker was started by `ddb-cdc worker`, else process).",
       valid_values=ENGINE_MODES),
    _p("engine.python", "STRING", None, "LOW", ENGINE_GROUP, "Engine Python interpreter",
       "(Self-managed only.) The Python interpreter (3.11+, path or command) that runs the engine in process mode; "
       "it must have this plugin's ddb-cdc-connect wheel installed at the plugin's version. Unset: the worker's "
       "DDB_CDC_PYTHON environment variable, else python3 on the PATH."),
    _p("signal.kafka.topic", "STRING", None, "LOW", SIGNAL_GROUP, "Signal topic",
       "(Self-managed only.) A Kafka topic of Debezium-format signals for this connector (key: the connector's "
       "name; value: {\"id\", \"type\": \"execute-snapshot\" | \"stop-snapshot\", \"data\": "
       "{\"data-collections\": [tables], \"type\": \"incremental\"}}). An execute-snapshot re-reads the named "
       "tables while their changes stream (snapshotCount one higher); a stop-snapshot stops it. One partition. "
       "With it set, each table's stream is read by one task. Settings for the signal consumer (security, say) "
       "go in signal.consumer.* properties."),
    _p("signal.kafka.bootstrap.servers", "STRING", None, "LOW", SIGNAL_GROUP, "Signal topic's Kafka",
       "(Self-managed only.) The bootstrap servers of the Kafka cluster holding signal.kafka.topic."),
    # Connect validates tasks.max itself ([1, ...]); it is here for the documentation.
    _p("tasks.max", "INT", 1, "HIGH", CONNECT_GROUP, "Tasks",
       "Maximum number of tasks for the connector, in [1, ...]."),
)

BY_NAME: Mapping[str, Property] = {p.name: p for p in PROPERTIES}


def definitions() -> list[dict[str, Any]]:
    """The table in the shape the Java shim turns into a ConfigDef (Connect's own properties left out)."""
    order: dict[str, int] = {}
    out = []
    for prop in PROPERTIES:
        if prop.name in CONNECT_OWNED:
            continue
        order[prop.group] = order.get(prop.group, 0) + 1
        out.append(prop.describe(order[prop.group]))
    return out


def typed_value(prop: Property, raw: Any) -> Any:
    """The typed value of a raw setting; raises ValueError with a message fit for the user."""
    if raw is None or (isinstance(raw, str) and raw.strip() == "" and prop.type not in ("STRING", "PASSWORD")):
        return prop.default
    if prop.type in ("INT", "LONG"):
        try:
            value = int(str(raw).strip())
        except ValueError:
            raise ValueError(f"must be a whole number, got {raw!r}") from None
        if (prop.minimum is not None and value < prop.minimum) or (prop.maximum is not None and value > prop.maximum):
            hi = prop.maximum if prop.maximum is not None else "..."
            raise ValueError(f"must be in [{prop.minimum}, {hi}], got {value}")
        return value
    if prop.type == "BOOLEAN":
        text = str(raw).strip().lower()
        if text not in ("true", "false"):
            raise ValueError(f"must be true or false, got {raw!r}")
        return text == "true"
    text = str(raw).strip() if prop.type == "STRING" else str(raw)
    if prop.valid_values and text not in prop.valid_values:
        raise ValueError(f"must be one of {', '.join(prop.valid_values)}, got {text!r}")
    return text
