"""Decoding schema-registry records without the connector's code: the schema comes from the registry by the id
in the record, then fastavro (AVRO), jsonschema (JSON_SR) or protoc-compiled descriptors (PROTOBUF) read it."""

from __future__ import annotations

import io
import json
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import fastavro
import jsonschema
import requests
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message
from grpc_tools import protoc


def split(data: bytes) -> tuple[int, bytes]:
    """(schema id, rest) of Confluent's wire format: byte 0, a 4-byte big-endian id, the payload."""
    assert data[0] == 0, f"not the Confluent wire format: {data[:8].hex()}"
    return int.from_bytes(data[1:5], "big"), data[5:]


def read_varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at += 1
        if not byte & 0x80:
            return (value >> 1) ^ -(value & 1), at  # zigzag
        shift += 7


@dataclass
class Registry:
    """Confluent's Schema Registry REST API (here Apicurio's ccompat API)."""

    url: str
    _protobuf: dict[int, Any] = field(default_factory=dict)

    def get(self, path: str) -> Any:
        r = requests.get(f"{self.url}{path}", timeout=30)
        r.raise_for_status()
        return r.json()

    def schema(self, schema_id: int) -> dict[str, Any]:
        return _schema_by_id(self.url, schema_id)

    def subjects(self) -> list[str]:
        return self.get("/subjects")

    def latest(self, subject: str) -> dict[str, Any]:
        return self.get(f"/subjects/{quote(subject, safe='')}/versions/latest")

    def decode(self, fmt: str, data: bytes) -> tuple[int, Any]:
        """(schema id, the value as plain Python: dicts, str, int, bytes; None for an absent optional)."""
        schema_id, payload = split(data)
        text = self.schema(schema_id)["schema"]
        if fmt == "AVRO":
            return schema_id, fastavro.schemaless_reader(io.BytesIO(payload), fastavro.parse_schema(json.loads(text)))
        if fmt == "JSON_SR":
            value = json.loads(payload)
            jsonschema.validate(value, json.loads(text))
            return schema_id, value
        assert fmt == "PROTOBUF", fmt
        count, at = read_varint(payload, 0)
        indexes = [0]
        if count:
            indexes = []
            for _ in range(count):
                index, at = read_varint(payload, at)
                indexes.append(index)
        cls = self.protobuf_class(schema_id, indexes)
        return schema_id, as_dict(cls.FromString(payload[at:]))

    def protobuf_class(self, schema_id: int, indexes: list[int]) -> Any:
        """The message class of a registered schema, compiled with protoc together with its references."""
        if schema_id not in self._protobuf:
            files: dict[str, str] = {}
            self._collect(self.schema(schema_id), "root.proto", files)
            with tempfile.TemporaryDirectory() as tmp:
                for name, text in files.items():
                    (Path(tmp) / name).parent.mkdir(parents=True, exist_ok=True)
                    (Path(tmp) / name).write_text(text)
                out = Path(tmp) / "set.pb"
                assert protoc.main(["protoc", f"-I{tmp}", "--include_imports", f"--descriptor_set_out={out}",
                                    "root.proto"]) == 0, f"protoc refused the registered schema:\n{files}"
                descriptors = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
            pool = descriptor_pool.DescriptorPool()
            for file in descriptors.file:  # dependencies come first
                pool.Add(file)
            self._protobuf[schema_id] = pool.FindFileByName("root.proto")
        message = self._protobuf[schema_id].message_types_by_name
        descriptor = list(message.values())[indexes[0]]
        for index in indexes[1:]:
            descriptor = descriptor.nested_types[index]
        return message_factory.GetMessageClass(descriptor)

    def _collect(self, schema: dict[str, Any], name: str, files: dict[str, str]) -> None:
        files[name] = schema["schema"]
        for ref in schema.get("references") or []:
            version = self.get(f"/subjects/{quote(ref['subject'], safe='')}/versions/{ref['version']}")
            self._collect(version, ref["name"], files)


@cache
def _schema_by_id(url: str, schema_id: int) -> dict[str, Any]:
    r = requests.get(f"{url}/schemas/ids/{schema_id}", timeout=30)
    r.raise_for_status()
    return r.json()


def as_dict(message: Message) -> dict[str, Any]:
    """A message as a dict by field name; a field without presence set (message, proto3 optional) is None."""
    out: dict[str, Any] = {}
    for f in message.DESCRIPTOR.fields:
        value = getattr(message, f.name)
        if f.message_type is not None and f.message_type.GetOptions().map_entry:
            out[f.name] = {k: as_dict(v) if isinstance(v, Message) else v for k, v in value.items()}
        elif f.is_repeated:
            out[f.name] = [as_dict(v) if isinstance(v, Message) else v for v in value]
        elif f.has_presence and not message.HasField(f.name):
            out[f.name] = None
        else:
            out[f.name] = as_dict(value) if isinstance(value, Message) else value
    return out
