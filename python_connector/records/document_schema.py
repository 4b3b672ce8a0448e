"""The typed document's schema: a small recursive type, its wire description, field-name mapping, and the
reading of a user-provided Avro record schema.

Pure and immutable: a :class:`Struct` never changes, inference builds a new one (see
:mod:`python_connector.records.typed_documents`). The description the Java decoder turns into a Connect
``Schema`` (``RecordBatchDecoder``) is, recursively::

    {"type": "struct", "name": "io.confluent.connect.dynamodb.orders.Document", "optional": true,
     "fields": [{"name": "_ddbx_first_name_1b836d86806e", "doc": "first name", "tag": 13675484,
                 "schema": {...}}, ...]}
    {"type": "array", "optional": true, "items": {...}}     {"type": "map", "optional": true, "values": {...}}
    {"type": "string" | "int32" | "int64" | "float32" | "float64" | "boolean" | "bytes", "optional": true}

Field names are already mapped to names every format accepts; ``doc`` keeps the attribute's own name; ``tag``
is the field's Protobuf number (see protobuf_tags).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

SCALARS = frozenset({"string", "int32", "int64", "float32", "float64", "boolean", "bytes"})
DOCUMENT_NAMESPACE = "io.confluent.connect.dynamodb."

# Name mapping. An attribute name every format accepts as it is stays as it is; any other, and any name
# starting with the reserved "_ddb", becomes _ddbx_<its characters, others as '_', at most 40>_<12 hex of
# its SHA-256>: injective except for a 48-bit hash collision (detected per struct, see unique_field_name).
VERBATIM = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}\Z")
RESERVED_PREFIX = "_ddb"
ESCAPED_PREFIX = "_ddbx_"
# Where a struct keeps, as DynamoDB JSON, the attributes whose value its fields cannot hold.
OVERFLOW_FIELD = "_ddb_overflow"
_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]")
# Protobuf numbers a field by its tag, not its name: a field's position would change as attributes are added in
# canonical order, so its tag comes from its name instead (in [1, 2**29 - 1], outside 19000-19999, which Protobuf
# reserves), the same on every task; of two names with one tag (1 in ~10**7 for 100 fields) the later in order
# takes the next free one. The converters read it from this Connect schema parameter.
MAX_TAG = 2**29 - 1
RESERVED_TAGS = range(19000, 20000)


def protobuf_tags(names: list[str]) -> dict[str, int]:
    """The Protobuf tag of each field name of a struct."""
    tags: dict[str, int] = {}
    used: set[int] = set()
    for name in sorted(names):
        tag = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big") % MAX_TAG + 1
        while tag in used or tag in RESERVED_TAGS:
            tag = tag % MAX_TAG + 1
        used.add(tag)
        tags[name] = tag
    return tags


def field_name(attribute: str, hash_chars: int = 12) -> str:
    """The field name of an attribute: itself when Avro and Protobuf accept it, else an escaped form."""
    if VERBATIM.match(attribute) and not attribute.startswith(RESERVED_PREFIX):
        return attribute
    stem = _NOT_IDENTIFIER.sub("_", attribute)[:40]
    return f"{ESCAPED_PREFIX}{stem}_{hashlib.sha256(attribute.encode()).hexdigest()[:hash_chars]}"


def unique_field_name(attribute: str, taken: Mapping[str, str]) -> str:
    """``field_name``, with a longer hash in the (48-bit) case it is taken by another attribute (``taken``:
    field name -> attribute)."""
    for hash_chars in (12, 24, 64):
        name = field_name(attribute, hash_chars)
        if taken.get(name, attribute) == attribute:
            return name
    raise ValueError(f"attribute name {attribute!r} collides with {taken[name]!r}")  # a SHA-256 collision


@dataclass(frozen=True)
class Scalar:
    kind: str  # one of SCALARS
    numeric: bool = False  # a string that holds a DynamoDB N (decimal.handling.mode=string), so S and N disagree


@dataclass(frozen=True)
class Array:
    items: Type


@dataclass(frozen=True)
class Map:
    values: Type


@dataclass(frozen=True)
class Field:
    """A struct field: the attribute it holds, its mapped name, type, and whether it may be null/absent."""

    attribute: str
    name: str
    type: Type
    optional: bool = True
    default: Any = None  # user-provided schemas only: the value of an absent attribute, already converted
    has_default: bool = False
    doc: str | None = None


@dataclass(frozen=True)
class Struct:
    """A record type. ``fields`` is keyed by attribute name, in canonical order (sorted by mapped name for an
    inferred struct, so every task infers the identical schema from the same attributes)."""

    name: str
    fields: Mapping[str, Field] = field(default_factory=dict)
    overflow: bool = False  # has the OVERFLOW_FIELD
    doc: str | None = None
    # How to convert items to this struct, made on first use (see typed_documents): not part of its value.
    plans: dict[bool, Any] = field(default_factory=dict, init=False, compare=False, repr=False)
    # The converters compiled for the attribute tuples of the items seen, by spill mode (see typed_documents).
    shapes: dict[bool, dict[tuple[str, ...], Any]] = field(default_factory=lambda: {False: {}, True: {}}, init=False,
                                                           compare=False, repr=False)


Type = Scalar | Array | Map | Struct

STRING, INT32, INT64, FLOAT32, FLOAT64 = (Scalar(k) for k in ("string", "int32", "int64", "float32", "float64"))
BOOLEAN, BYTES = Scalar("boolean"), Scalar("bytes")
NUMBER_STRING = Scalar("string", numeric=True)


def describe(type_: Type, optional: bool = True) -> dict[str, Any]:
    """The wire description of a type (see the module docstring)."""
    if isinstance(type_, Scalar):
        return {"type": type_.kind, "optional": optional}
    if isinstance(type_, Array):
        return {"type": "array", "optional": optional, "items": describe(type_.items, optional=False)}
    if isinstance(type_, Map):
        return {"type": "map", "optional": optional, "values": describe(type_.values, optional=False)}
    fields: list[dict[str, Any]] = [
        {"name": f.name, "doc": f.doc if f.doc is not None else f.attribute, "schema": describe(f.type, f.optional)}
        for f in type_.fields.values()]
    if type_.overflow:
        fields.append({"name": OVERFLOW_FIELD, "doc": "Attributes that do not fit their field, as DynamoDB JSON",
                       "schema": describe(STRING)})
    tags = protobuf_tags([f["name"] for f in fields])
    for f in fields:
        f["tag"] = tags[f["name"]]
    out: dict[str, Any] = {"type": "struct", "name": type_.name, "optional": optional, "fields": fields}
    if type_.doc:
        out["doc"] = type_.doc
    return out


# --- A user-provided Avro record schema --------------------------------------------------------------------

class SchemaValueError(ValueError):
    """document.schema.value is not an Avro record schema we can follow."""


_AVRO_PRIMITIVES = {"string": STRING, "int": INT32, "long": INT64, "float": FLOAT32, "double": FLOAT64,
                    "boolean": BOOLEAN, "bytes": BYTES}


def parse_avro_record(text: str) -> Struct:
    """A user-provided Avro record schema (JSON text) as a Struct; raises SchemaValueError saying what is wrong."""
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError as e:
        raise SchemaValueError(f"not JSON: {e}") from None
    if not isinstance(parsed, dict) or parsed.get("type") != "record":
        raise SchemaValueError('not an Avro record schema: the top level must be {"type": "record", ...}')
    try:
        type_, _ = _AvroReader().read(parsed, "")
    except (TypeError, KeyError, AttributeError) as e:
        raise SchemaValueError(f"malformed Avro schema ({type(e).__name__}: {e})") from None
    assert isinstance(type_, Struct)
    return type_


class _AvroReader:
    """Reads Avro types, remembering named records so later references to them resolve."""

    def __init__(self) -> None:
        self.named: dict[str, Type] = {}

    def read(self, avro: Any, namespace: str) -> tuple[Type | None, bool]:
        """(type, nullable); a type of None is Avro's null."""
        if isinstance(avro, list):
            return self._union(avro, namespace)
        if isinstance(avro, str):
            if avro == "null":
                return None, True
            if avro in _AVRO_PRIMITIVES:
                return _AVRO_PRIMITIVES[avro], False
            named = self.named.get(avro) or self.named.get(f"{namespace}.{avro}")
            if named is None:
                raise SchemaValueError(f"unknown Avro type {avro!r}")
            return named, False
        if not isinstance(avro, dict) or "type" not in avro:
            raise SchemaValueError(f"not an Avro type: {orjson.dumps(avro).decode()[:80]}")
        kind = avro["type"]
        if kind == "record":
            return self._record(avro, namespace), False
        if kind == "array":
            return Array(self._required(avro.get("items"), namespace, "array items")), False
        if kind == "map":
            return Map(self._required(avro.get("values"), namespace, "map values")), False
        if kind == "enum":
            return STRING, False
        if kind == "fixed":
            return BYTES, False
        return self.read(kind, namespace)  # a primitive with properties (a logical type): its physical type

    def _required(self, avro: Any, namespace: str, what: str) -> Type:
        type_, nullable = self.read(avro, namespace)
        if type_ is None or nullable:
            raise SchemaValueError(f"{what} must not be nullable")
        return type_

    def _union(self, branches: list[Any], namespace: str) -> tuple[Type | None, bool]:
        read = [self.read(b, namespace) for b in branches]
        types = [t for t, _ in read if t is not None]
        if len(types) > 1:
            raise SchemaValueError("a union may hold null and one other type only")
        return (types[0] if types else None), len(types) < len(branches)

    def _record(self, avro: dict[str, Any], namespace: str) -> Struct:
        name = avro.get("name")
        if not isinstance(name, str) or not name:
            raise SchemaValueError("a record needs a name")
        namespace = avro.get("namespace", namespace if "." not in name else name.rsplit(".", 1)[0])
        full = name if "." in name or not namespace else f"{namespace}.{name}"
        fields: dict[str, Field] = {}
        raw_fields = avro.get("fields")
        if not isinstance(raw_fields, list):
            raise SchemaValueError(f"record {full} needs a list of fields")
        for f in raw_fields:
            read = self._field(f, namespace, full)
            if read.attribute in fields:
                raise SchemaValueError(f"record {full} has two fields named {read.attribute}")
            fields[read.attribute] = read
        struct = Struct(full, fields, doc=avro.get("doc"))
        self.named[full] = struct
        return struct

    def _field(self, f: Any, namespace: str, record: str) -> Field:
        if not isinstance(f, dict) or not isinstance(f.get("name"), str) or "type" not in f:
            raise SchemaValueError(f"a field of {record} needs a name and a type")
        if not VERBATIM.match(f["name"]):
            raise SchemaValueError(f"field name {f['name']!r} of {record} is not a valid Avro name")
        type_, nullable = self.read(f["type"], namespace)
        if type_ is None:
            raise SchemaValueError(f"field {f['name']} of {record} is only ever null")
        default = f.get("default")
        if type_ == BYTES and isinstance(default, str):  # Avro writes a bytes default as code points 0-255
            default = base64.b64encode(default.encode("latin-1")).decode()
        return Field(f["name"], f["name"], type_, optional=nullable, default=default, has_default="default" in f,
                     doc=f.get("doc"))
