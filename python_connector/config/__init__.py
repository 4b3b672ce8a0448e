"""The connector's configuration: the property table, typed parsing and validation.

``validate`` answers Connect's ``validate()``; ``parse`` gives the engine typed settings and refuses a
configuration with problems. Messages name the property, the value given (never a secret's) and what
is allowed.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from python_connector.config import formats
from python_connector.config.properties import BY_NAME, PROPERTIES, Property, definitions, typed_value
from python_connector.config.rules import RULES, parse_includelist, parse_tag_filters

Problems = dict[str, list[str]]

# Properties of Kafka Connect itself, which may sit beside ours in a connector configuration.
CONNECT_PROPERTIES = frozenset({"connector.class", "key.converter", "value.converter", "header.converter",
                                "transforms", "predicates", "config.action.reload", "exactly.once.support",
                                "transaction.boundary", "transaction.boundary.interval.ms",
                                "offsets.storage.topic", "connector.plugin.version"})
CONNECT_PREFIXES = ("key.converter.", "value.converter.", "header.converter.", "transforms.", "predicates.",
                    "errors.", "topic.creation.", "producer.override.", "consumer.override.",
                    "admin.override.", "ddbcdc.", "signal.consumer.")

__all__ = ["BY_NAME", "PROPERTIES", "ConfigError", "ConnectorConfig", "Problems", "Property", "definitions",
           "parse", "parse_tag_filters", "unknown_property_warnings", "validate"]


class ConfigError(ValueError):
    """A configuration Connect should refuse; ``problems`` maps property names to messages."""

    def __init__(self, problems: Problems):
        self.problems = problems
        super().__init__("; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in problems.items()))


@dataclass(frozen=True)
class ConnectorConfig:
    """The typed settings the engine uses. Build with :func:`parse`."""

    values: Mapping[str, Any]
    raw: Mapping[str, str] = field(repr=False)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    @property
    def tables(self) -> list[str]:
        return parse_includelist(self.values["dynamodb.table.includelist"])

    @property
    def sync_mode(self) -> str:
        return self.values["dynamodb.table.sync.mode"]


def _typed(raw: Mapping[str, str]) -> tuple[dict[str, Any], Problems]:
    values: dict[str, Any] = {}
    problems: Problems = {}
    for prop in PROPERTIES:
        try:
            values[prop.name] = typed_value(prop, raw.get(prop.name))
        except ValueError as e:
            # A secret's value never goes into a message.
            text = str(e).split(", got")[0] if prop.type == "PASSWORD" else str(e)
            problems.setdefault(prop.name, []).append(f"Invalid value for {prop.name}: {text}.")
            values[prop.name] = prop.default
    return values, problems


def validate(raw: Mapping[str, str]) -> Problems:
    """Every problem with a raw configuration, by property name; empty when it is valid."""
    values, problems = _typed(raw)
    for name, message in [*(p for rule in RULES for p in rule(values)), *formats.check(values, raw)]:
        if name not in problems:  # a bad value is reported once, by its own check
            problems.setdefault(name, []).append(message)
    return problems


def unknown_property_warnings(raw: Mapping[str, str]) -> list[str]:
    """One warning per property that is neither ours nor Connect's, naming the nearest known one."""
    warnings = []
    for name in raw:
        if name in BY_NAME or name in CONNECT_PROPERTIES or name.startswith(CONNECT_PREFIXES):
            continue
        near = difflib.get_close_matches(name, list(BY_NAME), n=1, cutoff=0.75)
        hint = f"; did you mean '{near[0]}'?" if near else ""
        warnings.append(f"Unknown property '{name}' is ignored{hint}")
    return warnings


def parse(raw: Mapping[str, str]) -> ConnectorConfig:
    """The typed configuration; raises :class:`ConfigError` naming every bad property."""
    problems = validate(raw)
    if problems:
        raise ConfigError(problems)
    values, _ = _typed(raw)
    return ConnectorConfig(values=values, raw=dict(raw))
