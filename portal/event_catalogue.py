"""The event catalogue: every domain event type with a JSON Schema (draft 2020-12) for its `data`.

Each app registers its own types at start-up (portal in `portal.event_types`, plugins in their
`events.py`, imported from their AppConfig.ready()); `portal.events.publish()` stamps the
CloudEvents `dataschema` attribute from here and, when `GREENLOOP_VALIDATE_EVENTS` is on (DEBUG
and the tests), refuses data that does not match the schema. The catalogue is served at
GET /api/v1/events/schema and written into the README by `manage.py event_catalogue --readme`.

Personal data minimisation: event data carries ids, not e-mail addresses or free text. A property
that does carry free text (a topic title in a public space, a staff note the customer sees) is
named in the type's `free_text`, shown in the catalogue, and the validator refuses an e-mail
address anywhere else in the data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
# The `dataschema` attribute and the schema's `$id`: a URN, not a URL, so that an event does not
# name the host that happened to publish it; the catalogue document maps each URN to its schema.
DATASCHEMA_PREFIX = "urn:greenloop:event-schema:"
# Anything that looks like an e-mail address; no registered event may carry one.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class CatalogueError(Exception):
    pass


@dataclass(frozen=True)
class EventType:
    """One registered event type. `subject` is a regular expression the whole subject matches;
    `data` is the JSON Schema of the payload's properties (the catalogue wraps it as an object
    schema: `required`, `optional` and no other properties)."""

    type: str
    version: int
    subject: str
    description: str
    owner: str
    properties: Mapping[str, Any]
    required: frozenset[str]
    free_text: frozenset[str] = field(default_factory=frozenset)
    # Optional properties that appear all together or not at all.
    together: frozenset[str] = field(default_factory=frozenset)

    @property
    def dataschema(self) -> str:
        return f"{DATASCHEMA_PREFIX}{self.type}:{self.version}"

    @property
    def optional(self) -> frozenset[str]:
        return frozenset(self.properties) - self.required

    @cached_property
    def schema(self) -> dict[str, Any]:
        return {
            "$schema": SCHEMA_DIALECT,
            "$id": self.dataschema,
            "title": self.type,
            "description": self.description,
            "type": "object",
            "properties": dict(self.properties),
            "required": sorted(self.required),
            "additionalProperties": False,
            **(
                {
                    "dependentRequired": {
                        key: sorted(self.together - {key}) for key in sorted(self.together)
                    }
                }
                if self.together
                else {}
            ),
        }

    @cached_property
    def validator(self) -> Any:
        import jsonschema_rs

        return jsonschema_rs.Draft202012Validator(self.schema)

    def problems(self, subject: str, data: Any) -> list[str]:
        """Everything wrong with an event of this type: subject, schema, e-mail addresses."""
        found = []
        if not re.fullmatch(self.subject, subject):
            found.append(f"subject {subject!r} does not match {self.subject!r}")
        for error in self.validator.iter_errors(data):
            where = "/".join(str(part) for part in error.instance_path) or "(data)"
            found.append(f"{where}: {error.message}")
        # Declared free text is what a person typed (a topic's title): it may hold anything, and
        # refusing it here would fail their request. Everything else is ids and codes.
        undeclared = (
            {k: v for k, v in data.items() if k not in self.free_text}
            if isinstance(data, dict)
            else data
        )
        found.extend(f"{path}: looks like an e-mail address" for path in _emails(undeclared))
        return found

    def as_document(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "version": self.version,
            "dataschema": self.dataschema,
            "subject": self.subject,
            "description": self.description,
            "owner": self.owner,
            "free_text": sorted(self.free_text),
            "schema": self.schema,
        }


def _emails(value: Any, path: str = "") -> Iterable[str]:
    if isinstance(value, str):
        if _EMAIL.search(value):
            yield path or "(data)"
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _emails(item, f"{path}/{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _emails(item, f"{path}/{index}" if path else str(index))


_registry: dict[str, EventType] = {}


def register(
    type: str,  # noqa: A002 - CloudEvents names the attribute "type"
    *,
    version: int,
    subject: str,
    description: str,
    owner: str,
    properties: Mapping[str, Any],
    optional: Iterable[str] = (),
    free_text: Iterable[str] = (),
    together: Iterable[str] = (),
) -> EventType:
    """Register an event type; every property not in `optional` is required. Registering the
    same definition twice is harmless (ready() may run again in tests); a different one is an
    error, so two apps cannot claim one type."""
    optional = frozenset(optional)
    unknown = (optional | frozenset(free_text) | frozenset(together)) - set(properties)
    if unknown:
        raise CatalogueError(f"{type}: {sorted(unknown)} are not properties of its data")
    event_type = EventType(
        type=type,
        version=version,
        subject=subject,
        description=description,
        owner=owner,
        properties=properties,
        required=frozenset(properties) - optional,
        free_text=frozenset(free_text),
        together=frozenset(together),
    )
    existing = _registry.get(type)
    if existing is not None and existing != event_type:
        raise CatalogueError(f"{type} is already registered by {existing.owner} differently")
    _registry[type] = event_type
    return event_type


def get(type_: str) -> EventType | None:
    return _registry.get(type_)


def all_types() -> list[EventType]:
    return [_registry[name] for name in sorted(_registry)]


def document() -> dict[str, Any]:
    """The catalogue as served at /api/v1/events/schema."""
    return {
        "$schema": SCHEMA_DIALECT,
        "description": (
            "GreenLoop domain events (CloudEvents 1.0). Each event's `dataschema` attribute is the "
            "`$id` of the JSON Schema its `data` follows; a changed shape gets a new version."
        ),
        "types": [event_type.as_document() for event_type in all_types()],
    }


README_START = "<!-- event-catalogue:start (generated: manage.py event_catalogue --readme) -->"
README_END = "<!-- event-catalogue:end -->"


def readme_table() -> str:
    """The README's table of event types, generated from the registry."""
    lines = [
        "| type | version | subject | data (optional in brackets) | free text | description |",
        "|---|---|---|---|---|---|",
    ]
    for event_type in all_types():
        keys = sorted(event_type.required) + [f"[{k}]" for k in sorted(event_type.optional)]
        subject = event_type.subject.replace("|", "\\|")
        lines.append(
            f"| `{event_type.type}` | {event_type.version} | `{subject}` | "
            f"{', '.join(f'`{k}`' for k in keys) or '-'} | "
            f"{', '.join(f'`{k}`' for k in sorted(event_type.free_text)) or '-'} | "
            f"{event_type.description} |"
        )
    return "\n".join(lines)


def replace_readme_table(readme: str) -> str:
    start = readme.index(README_START) + len(README_START)
    end = readme.index(README_END)
    return readme[:start] + "\n" + readme_table() + "\n" + readme[end:]


# --- schema fragments shared by the registrations


def integer(description: str = "", minimum: int | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer"}
    if minimum is not None:
        schema["minimum"] = minimum
    if description:
        schema["description"] = description
    return schema


def string(description: str = "", **keywords: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", **keywords}
    if description:
        schema["description"] = description
    return schema


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "type": [schema["type"], "null"]}


def choice(values: Iterable[str], description: str = "") -> dict[str, Any]:
    return string(description, enum=sorted(values))


def identifier(what: str) -> dict[str, Any]:
    return integer(f"id of the {what}", minimum=1)


DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
DATETIME = {"type": "string", "format": "date-time"}
# Decimal figures travel as strings (DjangoJSONEncoder), so no precision is lost on the way.
DECIMAL = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}
BOOLEAN = {"type": "boolean"}
