"""DynamoDB items as typed documents: schema inference, conversion against a known schema, and the checks
of a user-provided schema. Pure: no state beyond the immutable types of
:mod:`python_connector.records.document_schema`; the per-table state lives in ``document_builder``.

The mapping (``auto_infer``)::

    S -> string      BOOL -> boolean     B -> bytes      NULL -> null (no field until a value is seen)
    N -> by decimal.handling.mode: double FLOAT64 | long INT64 | string STRING (as stored) |
         auto INT32, INT64 or FLOAT64 by value
    SS -> array<string>   NS -> array<N's type>   BS -> array<bytes>
    M -> struct, inferred recursively     L -> array<its elements' type> when they agree (and are not arrays)

Evolution only ever adds: a new attribute is a new optional field; a struct gains fields; a number field
widens INT32 -> INT64 -> FLOAT64 (``auto``, or NS/L elements of mixed kinds). The one rule for everything
else, so nothing is dropped and nothing fails: a value that fits no type (an L of mixed or unknown
element types, a number a ``long`` cannot hold or a ``double`` cannot hold exactly) or that disagrees with
its field's type (S in one item, N in another) is written, as DynamoDB JSON under its attribute name, into
the optional ``_ddb_overflow`` string of the struct that holds it; the field stays null for that record.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from python_connector.records import document_schema as ds

DDBValue = Mapping[str, Any]  # {"S": "x"}, {"N": "1"}, {"M": {...}}, ...
ELEMENTS = None  # in a Path: the elements of a list
Path = tuple[str | None, ...]  # attribute names from the document down to a value
INT32_RANGE = (-(2**31), 2**31 - 1)
INT64_RANGE = (-(2**63), 2**63 - 1)
_NUMERIC_RANK = {ds.INT32: 0, ds.INT64: 1, ds.FLOAT64: 2}


class Unfit:
    """A value no type can hold (a sentinel)."""


UNFIT = Unfit()


# --- numbers ------------------------------------------------------------------------------------------------

def as_int(text: str, bounds: tuple[int, int]) -> int | None:
    """The whole number ``text`` stands for, if it is one within ``bounds``."""
    try:
        value = int(text)
    except ValueError:
        try:
            d = Decimal(text)
        except InvalidOperation:
            return None
        if not d.is_finite() or d != d.to_integral_value():
            return None
        value = int(d)
    return value if bounds[0] <= value <= bounds[1] else None


def as_double(text: str) -> float | None:
    """The double ``text`` stands for, if the double holds it exactly (its shortest form is the same number)."""
    value = float(text)
    # Up to 15 significant digits always survive a double; only longer numbers need the exact comparison.
    if len(text) <= 15 or Decimal(repr(value)) == Decimal(text):
        return value
    return None


def number_type(text: str, mode: str) -> ds.Scalar | Unfit:
    """The type ``N`` gets under a decimal.handling.mode."""
    if mode == "string":
        return ds.NUMBER_STRING
    if mode == "double":
        return ds.FLOAT64 if as_double(text) is not None else UNFIT
    if mode == "long":
        return ds.INT64 if as_int(text, INT64_RANGE) is not None else UNFIT
    if as_int(text, INT32_RANGE) is not None:
        return ds.INT32
    if as_int(text, INT64_RANGE) is not None:
        return ds.INT64
    return ds.FLOAT64 if as_double(text) is not None else UNFIT


def number_value(text: str, target: ds.Scalar) -> Any:
    """``text`` as a value of a numeric (or, in string mode, STRING) field, or UNFIT."""
    if target.kind == "string":
        return text if target.numeric else UNFIT
    if target == ds.FLOAT64 or target == ds.FLOAT32:
        value: Any = as_double(text)
    else:
        value = as_int(text, INT32_RANGE if target == ds.INT32 else INT64_RANGE)
    return UNFIT if value is None else value


# --- inference ------------------------------------------------------------------------------------------------

def merge(known: ds.Type, new: ds.Type) -> ds.Type | None:
    """The type that holds values of both, or None when they disagree."""
    if known is new or known == new:
        return known
    if isinstance(known, ds.Scalar) and isinstance(new, ds.Scalar) and known in _NUMERIC_RANK \
            and new in _NUMERIC_RANK:
        return known if _NUMERIC_RANK[known] >= _NUMERIC_RANK[new] else new
    if isinstance(known, ds.Array) and isinstance(new, ds.Array):
        items = merge(known.items, new.items)
        return None if items is None else ds.Array(items)
    if isinstance(known, ds.Struct) and isinstance(new, ds.Struct):
        merged = known
        for f in new.fields.values():
            merged = add_attribute(merged, f.attribute, f.type)
        return merged if not new.overflow or merged.overflow else replace(merged, overflow=True)
    return None


def add_attribute(struct: ds.Struct, attribute: str, type_: ds.Type | Unfit) -> ds.Struct:
    """``struct`` also holding ``attribute`` of ``type_``: a new field, a widened one, or the overflow."""
    known = struct.fields.get(attribute)
    if isinstance(type_, Unfit):
        return struct if struct.overflow else replace(struct, overflow=True)
    if known is None:
        taken = {f.name: f.attribute for f in struct.fields.values()}
        added = ds.Field(attribute, ds.unique_field_name(attribute, taken), type_)
        fields = sorted([*struct.fields.values(), added], key=lambda f: f.name)
        return replace(struct, fields={f.attribute: f for f in fields})
    merged = merge(known.type, type_)
    if merged is None:
        return struct if struct.overflow else replace(struct, overflow=True)
    if merged is known.type:
        return struct
    return replace(struct, fields={**struct.fields, attribute: replace(known, type=merged)})


class Inference:
    """Infers types under one decimal.handling.mode; nested structs are named after the document and their path."""

    def __init__(self, mode: str, document_name: str):
        self._mode = mode
        self._document_name = document_name

    def observe(self, struct: ds.Struct, item: Mapping[str, DDBValue], path: Path = ()) -> ds.Struct:
        """``struct`` grown to hold ``item``; the very same object when it already does (cheap to compare)."""
        for attribute, value in item.items():
            type_ = self.infer(value, (*path, attribute), struct.fields.get(attribute))
            if type_ is None:
                continue
            struct = add_attribute(struct, attribute, type_)
            f = struct.fields.get(attribute)
            # A value in a field of another (wider) type may still not fit it: 2**53 + 1 in a FLOAT64 field.
            if f is not None and f.type is not type_ and not isinstance(type_, ds.Struct) and not struct.overflow \
                    and not fits(f.type, value):
                struct = replace(struct, overflow=True)
        return struct

    def infer(self, value: DDBValue, path: Path, known: ds.Field | None = None) -> ds.Type | Unfit | None:
        """The type of one value (None for NULL, which says nothing); ``known`` lets a nested struct grow."""
        (tag, inner), = value.items()
        if tag in _PLAIN:
            return _PLAIN[tag]
        if tag == "N":
            return number_type(inner, self._mode)
        if tag == "NS":
            return self._elements([number_type(n, self._mode) for n in inner])
        if tag == "M":
            base = known.type if known is not None and isinstance(known.type, ds.Struct) else self.struct(path)
            return self.observe(base, inner, path)
        if tag == "L":
            base_items = known.type.items if known is not None and isinstance(known.type, ds.Array) else None
            return self._list(inner, (*path, ELEMENTS), base_items)
        return None  # NULL

    def struct(self, path: Path) -> ds.Struct:
        """An empty struct for the M at ``path``, named uniquely and stably by that path."""
        return ds.Struct(struct_name(self._document_name, path))

    def _list(self, values: list[DDBValue], path: Path, known_items: ds.Type | None) -> ds.Type | Unfit:
        if not values:
            return ds.Array(known_items) if known_items is not None else UNFIT
        types: list[ds.Type | Unfit] = []
        for v in values:
            if "M" in v:  # structs of one list grow one struct, so elements with different attributes agree
                base = known_items if isinstance(known_items, ds.Struct) else self.struct(path)
                known_items = self.observe(base, v["M"], path)
                types.append(known_items)
            else:
                t = self.infer(v, path)
                types.append(UNFIT if t is None else t)
        return self._elements(types)

    def _elements(self, types: list[ds.Type | Unfit]) -> ds.Type | Unfit:
        """An array of the elements' common type, or UNFIT when they have none."""
        common: ds.Type | None = None
        for t in types:
            if isinstance(t, Unfit):
                return UNFIT
            common = t if common is None else merge(common, t)
            if common is None or isinstance(common, ds.Array):  # Protobuf has no arrays of arrays
                return UNFIT
        return ds.Array(common) if common is not None else UNFIT


_PLAIN: Mapping[str, ds.Type] = {"S": ds.STRING, "BOOL": ds.BOOLEAN, "B": ds.BYTES, "SS": ds.Array(ds.STRING),
                                  "BS": ds.Array(ds.BYTES)}


def struct_name(document_name: str, path: Path) -> str:
    """A nested struct's name: the document's, its path in mapped names (for people; at most 60 characters), and
    a hash of the exact path (so two paths never share a name, which Avro and Protobuf refuse). Avro resolves
    records by name, so the name depends on nothing but the path."""
    readable = "_".join("items" if p is ELEMENTS else ds.field_name(p) for p in path)[:60]
    exact = "\0".join("\1" if p is ELEMENTS else p for p in path)
    return f"{document_name}_{readable}_{hashlib.sha256(exact.encode()).hexdigest()[:10]}"


# --- conversion against a known schema (the hot path) --------------------------------------------------------

class NeedsEvolution(Exception):
    """The schema does not hold this item yet (a new attribute, or a value its field cannot hold)."""


# Scalars whose DynamoDB value is their JSON value as it is, by the one tag they take.
_TAG_OF: Mapping[ds.Scalar, str] = {ds.STRING: "S", ds.BOOLEAN: "BOOL", ds.BYTES: "B", ds.NUMBER_STRING: "N"}
Converter = Callable[[DDBValue], Any]


def _converter(type_: ds.Type, spill: bool) -> Converter:
    """How a value becomes the JSON value of a field of ``type_`` (UNFIT when it cannot), made once per field."""
    if isinstance(type_, ds.Scalar):
        tag = _TAG_OF.get(type_)
        if tag is not None:
            return lambda v: v.get(tag, UNFIT)

        def number(v: DDBValue) -> Any:
            n = v.get("N")
            return UNFIT if n is None else number_value(n, type_)
        return number
    if isinstance(type_, ds.Struct):
        def struct(v: DDBValue) -> Any:
            m = v.get("M")
            return UNFIT if m is None else document(type_, m, spill)
        return struct
    return lambda v: value_of(type_, v, spill)


def _plan(struct: ds.Struct, spill: bool) -> Mapping[str, tuple[str, Converter]]:
    """attribute -> (field name, converter), built once per struct (a struct never changes) and mode."""
    plan = struct.plans.get(spill)
    if plan is None:
        plan = struct.plans[spill] = {a: (f.name, _converter(f.type, spill)) for a, f in struct.fields.items()}
    return plan


def value_of(type_: ds.Type, value: DDBValue, spill: bool = True) -> Any:
    """A DynamoDB value as the JSON value of a field of ``type_``, or UNFIT."""
    (tag, inner), = value.items()
    if tag == "NULL":
        return None
    if isinstance(type_, ds.Scalar):
        if tag == "N":
            return number_value(inner, type_)
        return inner if _PLAIN.get(tag) == type_ else UNFIT
    if isinstance(type_, ds.Struct):
        return document(type_, inner, spill) if tag == "M" else UNFIT
    if not isinstance(type_, ds.Array) or tag not in ("L", "SS", "NS", "BS"):
        return UNFIT
    if tag == "L":
        out = [value_of(type_.items, v, spill) for v in inner]
    elif tag == "NS":
        out = [number_value(n, type_.items) if isinstance(type_.items, ds.Scalar) else UNFIT for n in inner]
    else:
        out = inner if _PLAIN[tag] == type_ else [UNFIT]
    return UNFIT if any(v is UNFIT or v is None for v in out) else out


def document(struct: ds.Struct, item: Mapping[str, DDBValue], spill: bool = True) -> dict[str, Any]:
    """An item as the JSON object of ``struct``. A value the struct has no field for, or whose field cannot hold
    it, goes to the overflow when ``spill`` (the struct must have one: see Inference.observe); otherwise, and
    without an overflow field, raises NeedsEvolution.

    An item goes through the converter compiled for its attribute names (see _compile), made on the first item
    with those names; an item that converter does not take as it is goes the general way (_document), which
    decides, so both ways give the same document."""
    shapes = struct.shapes[spill]
    shape = tuple(item)
    compiled = shapes.get(shape, _NOT_COMPILED)
    if compiled is _NOT_COMPILED:
        if len(shapes) >= MAX_SHAPES:  # a table of many attribute sets: the others go the general way
            return _document(struct, item, spill)
        compiled = shapes[shape] = _compile(struct, item, spill)
    if compiled is not None:
        try:
            return compiled(item)
        except (KeyError, NotAsIs):
            pass
    return _document(struct, item, spill)


def documents(struct: ds.Struct, items: Sequence[Mapping[str, DDBValue]], spill: bool = True) -> list[dict[str, Any]]:
    """document() of each item: the same documents, with the page's lookups done once and the compiled converters
    called directly."""
    shapes = struct.shapes[spill]
    out = []
    for item in items:
        compiled = shapes.get(tuple(item))
        if compiled is not None:
            try:
                out.append(compiled(item))
                continue
            except (KeyError, NotAsIs):
                pass
        out.append(document(struct, item, spill))
    return out


def _document(struct: ds.Struct, item: Mapping[str, DDBValue], spill: bool) -> dict[str, Any]:
    """document(), the general way: attribute by attribute, through the struct's plan."""
    out: dict[str, Any] = {}
    overflow: dict[str, DDBValue] | None = None
    plan = _plan(struct, spill)
    for attribute, value in item.items():
        planned = plan.get(attribute)
        converted = UNFIT if planned is None else planned[1](value)
        if converted is not UNFIT:
            out[planned[0]] = converted  # type: ignore[index]
        elif "NULL" in value:
            if planned is not None:
                out[planned[0]] = None
        elif spill and struct.overflow:
            if overflow is None:
                overflow = {}
            overflow[attribute] = value
        else:
            raise NeedsEvolution(attribute)
    if overflow is not None:
        out[ds.OVERFLOW_FIELD] = orjson.dumps(overflow).decode()
    return out


# --- compiled converters: one per struct, spill mode and attribute names ---------------------------------------

class NotAsIs(Exception):
    """A compiled converter met a value it does not take as it is: the item goes the general way."""


_NOT_COMPILED = object()
MAX_SHAPES = 256  # compiled converters per struct and spill mode; items of other attribute names go the general way
MAX_SHAPE_ATTRIBUTES = 512


def _compile(struct: ds.Struct, item: Mapping[str, DDBValue], spill: bool) -> Callable[..., dict[str, Any]] | None:
    """A converter for items with the attribute names of ``item``, in its order, or None when the struct has no
    field for one of them (the general way decides: evolution or the overflow). It builds the document in one dict
    display, taking each value by the tag ``item`` has there (``item[a]["S"]`` for a string field), so a value
    with another tag raises KeyError, and a number its field cannot hold raises NotAsIs: the general way then
    converts that item. The generated source holds generated names only; attribute and field names are bound as
    values."""
    if len(item) > MAX_SHAPE_ATTRIBUTES:
        return None
    bound: dict[str, Any] = {}
    entries = []
    for i, (attribute, value) in enumerate(item.items()):
        f = struct.fields.get(attribute)
        if f is None:
            return None
        (tag, _), = value.items()
        template, convert = _as_is(f.type, tag, spill)
        bound[f"a{i}"], bound[f"n{i}"], bound[f"c{i}"] = attribute, f.name, convert
        entries.append(f"n{i}: " + template.format(value=f"item[a{i}]", convert=f"c{i}", temp=f"t{i}"))
    source = (f"def bind({', '.join(bound)}):\n"
              f"    def convert(item):\n"
              f"        return {{{', '.join(entries)}}}\n"
              f"    return convert\n")
    scope: dict[str, Any] = {}
    exec(source, scope)
    return scope["bind"](**bound)


# (tag, field type) where a field takes the value as it is.
_AS_IS = frozenset({("S", ds.STRING), ("BOOL", ds.BOOLEAN), ("B", ds.BYTES), ("N", ds.NUMBER_STRING),
                    ("SS", ds.Array(ds.STRING)), ("BS", ds.Array(ds.BYTES)), ("NS", ds.Array(ds.NUMBER_STRING))})


def _as_is(type_: ds.Type, tag: str, spill: bool) -> tuple[str, Any]:
    """How a compiled converter takes a value of ``tag`` into a field of ``type_``: a template of an expression of
    the value (``{value}``), the function it calls (``{convert}``), which raises NotAsIs where the general way
    would not write the value as the field's, and a local it may use (``{temp}``)."""
    plain = isinstance(type_, ds.Scalar) or (isinstance(type_, ds.Array) and isinstance(type_.items, ds.Scalar))
    if plain and (tag, type_) in _AS_IS:  # (a struct is not hashable)
        return f"{{value}}[{tag!r}]", None
    if tag == "N" and (type_ == ds.FLOAT64 or type_ == ds.FLOAT32):  # as_double's shortcut inline, as it is common
        return "(float({temp}) if len({temp} := {value}['N']) <= 15 else {convert}({temp}))", _number(type_)
    if tag == "N" and isinstance(type_, ds.Scalar) and type_ in _NUMERIC:
        return "{convert}({value}['N'])", _number(type_)
    if tag == "NS" and isinstance(type_, ds.Array) and isinstance(type_.items, ds.Scalar) and type_.items in _NUMERIC:
        return "[{convert}(n) for n in {value}['NS']]", _number(type_.items)
    if tag == "M" and isinstance(type_, ds.Struct):
        return "{convert}({value}['M'])", lambda m: document(type_, m, spill)
    general = _converter(type_, spill)

    def strict(value: DDBValue) -> Any:
        converted = general(value)
        if converted is UNFIT:
            raise NotAsIs
        return converted
    return "{convert}({value})", strict


_NUMERIC = (ds.INT32, ds.INT64, ds.FLOAT32, ds.FLOAT64)


def _number(target: ds.Scalar) -> Callable[[str], Any]:
    """number_value for a numeric field, raising NotAsIs instead of returning UNFIT."""
    if target == ds.FLOAT64 or target == ds.FLOAT32:
        def double(text: str) -> float:
            if len(text) <= 15:  # as_double's own shortcut
                return float(text)
            value = as_double(text)
            if value is None:
                raise NotAsIs
            return value
        return double
    bounds = INT32_RANGE if target == ds.INT32 else INT64_RANGE

    def whole(text: str) -> int:
        value = as_int(text, bounds)
        if value is None:
            raise NotAsIs
        return value
    return whole


def fits(type_: ds.Type, value: DDBValue) -> bool:
    """Whether a field of ``type_`` holds the value (what its nested structs cannot hold spills into theirs)."""
    try:
        return value_of(type_, value) is not UNFIT
    except NeedsEvolution:
        return False


def overflowed(struct: ds.Struct, item: Mapping[str, DDBValue], path: str = "") -> list[str]:
    """The attribute paths of ``item`` that go to an overflow field (for the once-per-attribute warning)."""
    out = []
    for attribute, value in item.items():
        f = struct.fields.get(attribute)
        where = f"{path}.{attribute}" if path else attribute
        if f is not None and isinstance(f.type, ds.Struct) and "M" in value:
            out += overflowed(f.type, value["M"], where)
        elif f is not None and isinstance(f.type, ds.Array) and isinstance(f.type.items, ds.Struct) and "L" in value \
                and fits(f.type, value):
            for element in value["L"]:
                out += overflowed(f.type.items, element["M"], f"{where}[]")
        elif "NULL" not in value and (f is None or not fits(f.type, value)):
            out.append(where)
    return out


# --- a user-provided schema ------------------------------------------------------------------------------------

class DocumentRejected(ValueError):
    """An item does not follow the user-provided schema; ``field`` is the path of the field at fault."""

    def __init__(self, field: str, reason: str):
        self.field = field
        super().__init__(f"field '{field}': {reason}")


_DDB_OF_SCALAR = {"string": ("S",), "boolean": ("BOOL",), "bytes": ("B",), "int32": ("N",), "int64": ("N",),
                  "float32": ("N",), "float64": ("N",)}


def follow(struct: ds.Struct, item: Mapping[str, DDBValue], lenient: bool, path: str = "") -> dict[str, Any]:
    """``item`` as the JSON object of a user-provided ``struct``; raises DocumentRejected on an extra attribute
    (unless ``lenient``, which drops it), a missing mandatory field, or a value of another type."""
    fields = struct.fields
    if not lenient:
        for attribute in item:
            if attribute not in fields:
                raise DocumentRejected(_join(path, attribute), "not in document.schema.value (an extra attribute; "
                                       "document.schema.validation=lenient drops these)")
    out: dict[str, Any] = {}
    for attribute, f in fields.items():
        where = _join(path, attribute)
        value = item.get(attribute)
        if value is None and f.has_default:
            out[f.name] = f.default
        elif value is None or "NULL" in value:
            if not f.optional:
                raise DocumentRejected(where, "missing, and the schema requires it (not nullable, no default)"
                                       if value is None else "null, and the schema does not allow null")
            out[f.name] = None
        else:
            out[f.name] = _follow_value(f.type, value, lenient, where)
    return out


def _follow_value(type_: ds.Type, value: DDBValue, lenient: bool, where: str) -> Any:
    (tag, inner), = value.items()
    converted: Any = UNFIT
    if isinstance(type_, ds.Scalar) and tag in _DDB_OF_SCALAR[type_.kind]:
        converted = number_value(inner, type_) if tag == "N" else inner
    elif isinstance(type_, ds.Struct) and tag == "M":
        converted = follow(type_, inner, lenient, where)
    elif isinstance(type_, ds.Map) and tag == "M":
        converted = {k: _follow_value(type_.values, v, lenient, f"{where}.{k}") for k, v in inner.items()}
    elif isinstance(type_, ds.Array) and tag in ("L", "SS", "NS", "BS"):
        elements: list[DDBValue] = inner if tag == "L" else [{tag[0]: e} for e in inner]
        converted = [_follow_value(type_.items, e, lenient, f"{where}[{i}]") for i, e in enumerate(elements)]
    if converted is UNFIT:
        raise DocumentRejected(where, f"a DynamoDB {tag} does not fit the schema's {_type_name(type_)}")
    return converted


def _type_name(type_: ds.Type) -> str:
    if isinstance(type_, ds.Scalar):
        return type_.kind
    if isinstance(type_, ds.Struct):
        return f"record {type_.name}"
    return "array" if isinstance(type_, ds.Array) else "map"


def _join(path: str, attribute: str) -> str:
    return f"{path}.{attribute}" if path else attribute

