"""Typed documents (``document.content.format=schema``) for one table of one task: the table's schema state
and the building of its records.

One builder per table per task, shared by the table's scan segments (threads) and its stream reader, so the
state is behind a lock; converting a page against the schema happens outside it. Each schema version goes
into the wire group header (``{"version": n, "schema": <description>}``), so the Java decoder builds the
Connect ``Schema`` once per version, and the converters register it once. Versions only grow (optional
fields are added, numbers widen), and fields are in canonical order, so two tasks that saw the same
attributes have the identical schema, and every new version is BACKWARD compatible with the previous one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from python_connector.metrics.registry import METRICS
from python_connector.records import document_schema as ds
from python_connector.records import envelope
from python_connector.records import typed_documents as td
from python_connector.records.tables import TableInfo

log = logging.getLogger(__name__)

SKIPPED_METRIC = "ddbcdc_documents_skipped_total"


class DocumentFailed(Exception):
    """A record does not follow document.schema.value, and errors.tolerance is not ``all``: the task fails."""

    def __init__(self, table: str, key: Mapping[str, Any], error: td.DocumentRejected):
        self.table, self.key, self.field = table, dict(key), error.field
        super().__init__(f"Table '{table}', item with key {orjson.dumps(key).decode()}: the document does not "
                         f"follow document.schema.value: {error}. Set errors.tolerance=all to skip such records.")


@dataclass(frozen=True)
class DocumentSettings:
    """The typed-document settings of a task (None of them with document.content.format=json_string)."""

    source: str  # auto_infer | user_provided
    decimal_mode: str
    lenient: bool
    user_schema: ds.Struct | None
    tolerate_errors: bool  # Connect's errors.tolerance=all: a failing record is skipped, counted and logged

    @classmethod
    def of(cls, values: Mapping[str, Any], raw: Mapping[str, str]) -> DocumentSettings | None:
        if values["document.content.format"] != "schema":
            return None
        user = values["document.schema.source"] == "user_provided"
        return cls(values["document.schema.source"], values["decimal.handling.mode"],
                   values["document.schema.validation"] == "lenient",
                   ds.parse_avro_record(values["document.schema.value"]) if user else None,
                   raw.get("errors.tolerance", "none").strip().lower() == "all")


@dataclass(frozen=True)
class SchemaVersion:
    number: int
    struct: ds.Struct
    header: Mapping[str, Any]  # what goes into the wire group header as "document"
    spills: bool  # some struct has an overflow field: worth looking for attributes to warn about


def _has_overflow(type_: ds.Type) -> bool:
    if isinstance(type_, ds.Struct):
        return type_.overflow or any(_has_overflow(f.type) for f in type_.fields.values())
    if isinstance(type_, ds.Array):
        return _has_overflow(type_.items)
    return isinstance(type_, ds.Map) and _has_overflow(type_.values)


def _version(number: int, struct: ds.Struct) -> SchemaVersion:
    return SchemaVersion(number, struct, {"version": number, "schema": ds.describe(struct)}, _has_overflow(struct))


def _holds(struct: ds.Struct, image: envelope.Item) -> bool:
    """Whether ``struct`` holds the image as it is (without its overflow)."""
    try:
        td.document(struct, image, spill=False)
    except td.NeedsEvolution:
        return False
    return True


def document_name(table: str) -> str:
    return f"{ds.DOCUMENT_NAMESPACE}{table}.Document"


class DocumentBuilder:
    """Builds the wire records of one table with typed documents."""

    def __init__(self, table: TableInfo, settings: DocumentSettings, labels: Mapping[str, str] | None = None,
                 warn: Callable[..., None] = log.warning):
        self._table = table
        self._settings = settings
        self._labels = dict(labels or {})
        self._warn = warn
        self._lock = threading.Lock()
        self._inference = td.Inference(settings.decimal_mode, document_name(table.name))
        user = settings.user_schema
        self._current = _version(1, user if user is not None else ds.Struct(document_name(table.name)))
        self._warned: set[str] = set()

    @property
    def version(self) -> SchemaVersion:
        return self._current

    def snapshot(self, header: dict[str, Any], items: Sequence[envelope.Item], ts_ns: int) -> list[bytes]:
        """The records of a scanned page; sets the header's document schema."""
        if self._settings.user_schema is not None:
            convert = self._follow(header)
            docs: dict[int, bytes] = {}
            kept = [item for item in items if self._convert_into(docs, convert, item, item)]
            return envelope.snapshot_records(kept, self._table.key, ts_ns, dumps=lambda item: docs[id(item)])
        written = self._inferred(header, items)
        return envelope.snapshot_records(items, self._table.key, ts_ns, dumps=lambda item: written[id(item)])

    def changes(self, header: dict[str, Any], records: Sequence[dict[str, Any]]) -> list[bytes]:
        """The records of a GetRecords page; sets the header's document schema."""
        images = [envelope.change_images(r) for r in records]
        if self._settings.user_schema is not None:
            convert = self._follow(header)
            docs: dict[int, bytes] = {}
            kept = [r for r, pair in zip(records, images, strict=True)
                    if all(self._convert_into(docs, convert, i, r["dynamodb"]["Keys"]) for i in pair if i is not None)]
            return envelope.change_records(kept, self._table.key, dumps=lambda item: docs[id(item)])
        written = self._inferred(header, [i for pair in images for i in pair if i is not None])
        return envelope.change_records(records, self._table.key, dumps=lambda item: written[id(item)])

    def _follow(self, header: dict[str, Any]) -> Callable[[envelope.Item], bytes]:
        """How to write an image against the user-provided schema; sets the header's."""
        header["document"] = self._current.header
        struct, lenient, dumps = self._current.struct, self._settings.lenient, orjson.dumps
        return lambda item: dumps(td.follow(struct, item, lenient))

    def _inferred(self, header: dict[str, Any], images: Sequence[envelope.Item]) -> dict[int, bytes]:
        """The documents of ``images`` (by id) against the table's schema, grown to hold them; sets the header's."""
        version = self._current
        try:  # the hot path: the schema already holds every image
            written = dict(zip(map(id, images), map(orjson.dumps, td.documents(version.struct, images, False)),
                               strict=True))
        except td.NeedsEvolution:  # a new attribute, or a value no field holds (yet)
            version, written = self._evolve(version, images)
        header["document"] = version.header
        return written

    def _evolve(self, version: SchemaVersion,
                images: Sequence[envelope.Item]) -> tuple[SchemaVersion, dict[int, bytes]]:
        """Writes a page that ``version`` does not hold. Only the images it does not hold are inferred (inference
        leaves a schema that holds an image as it is); once the schema holds them all, which can take more than one
        round (a field that widens may no longer hold an image that fitted it before), the values that still do not
        fit are written to their overflow, with a warning once per attribute."""
        written, missed = self._write(version.struct, images)
        while True:
            grown = self._observe(missed)
            if grown is version:
                break
            version = grown
            written, missed = self._write(version.struct, images)
        for image in missed:
            written[id(image)] = orjson.dumps(self._warn_spilled(version.struct, image))
        return version, written

    @staticmethod
    def _write(struct: ds.Struct, images: Sequence[envelope.Item]) -> tuple[dict[int, bytes], list[envelope.Item]]:
        """The images ``struct`` holds as they are, written (by id), and those it does not."""
        written: dict[int, bytes] = {}
        missed = []
        dumps, document = orjson.dumps, td.document
        for image in images:
            try:
                written[id(image)] = dumps(document(struct, image, False))
            except td.NeedsEvolution:
                missed.append(image)
        return written, missed

    def _observe(self, images: Sequence[envelope.Item]) -> SchemaVersion:
        """The table's schema grown to hold ``images`` (the same version when it already does). An image the schema
        grown so far already holds is not inferred: inference would leave the schema as it is (the first page of a
        table infers its first item, and its other items usually fit what that one made)."""
        with self._lock:
            current = self._current
            struct = current.struct
            for image in images:
                if not _holds(struct, image):
                    struct = self._inference.observe(struct, image)
            if struct is not current.struct:
                self._current = current = _version(current.number + 1, struct)
                log.info("Table %s: document schema version %d has %d fields", self._table.name, current.number,
                         len(struct.fields))
            return current

    def _warn_spilled(self, struct: ds.Struct, item: envelope.Item) -> dict[str, Any]:
        out = td.document(struct, item)
        for attribute in td.overflowed(struct, item):
            with self._lock:
                first = attribute not in self._warned
                self._warned.add(attribute)
            if first:
                self._warn("Table %s: attribute '%s' does not fit its inferred field (a mixed list, a type that "
                           "changed, or a number the decimal.handling.mode cannot hold exactly): its values go to "
                           "%s as DynamoDB JSON", self._table.name, attribute, ds.OVERFLOW_FIELD)
        return out

    def _convert_into(self, docs: dict[int, bytes], convert: Callable[[envelope.Item], bytes], image: envelope.Item,
                      key_of: Mapping[str, Any]) -> bool:
        """Converts one image into ``docs``; False when it is skipped (errors.tolerance=all)."""
        try:
            docs[id(image)] = convert(image)
            return True
        except td.DocumentRejected as e:
            key = {name: key_of[name] for name, _ in self._table.key if name in key_of}
            if not self._settings.tolerate_errors:
                raise DocumentFailed(self._table.name, key, e) from None
            METRICS.add(SKIPPED_METRIC, 1, table=self._table.name, **self._labels)
            log.warning("Table %s: skipped the record of the item with key %s (errors.tolerance=all): %s",
                        self._table.name, orjson.dumps(key).decode(), e)
            return False
