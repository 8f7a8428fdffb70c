"""Rules every API operation follows, checked over all of them so that a new endpoint cannot
drift (issue #10, items 4 and 11): every request schema is a `portal.api.Input` (storable text
in every string), every loose string parameter is a `portal.text.Text`, and every write
declares its access with `portal.api.requires`, checked before the body is read."""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel

from portal.api import Input, api
from portal.text import check_text

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def _operations():
    import portal.urls  # noqa: F401 - mounts every app's router

    for bound in api._get_bound_routers():
        for path, view in bound.path_operations.items():
            for operation in view.operations:
                yield f"{'/'.join(operation.methods)} {bound.prefix}{path}", operation


def _loose_strings(annotation: Any, metadata: tuple = (), in_input: bool = False) -> list[str]:
    """Names of the types in `annotation` that let a string through without the text rule.
    Strings inside an `Input` follow it; a schema nested in one must be an `Input` too."""
    if any(getattr(m, "func", None) is check_text for m in metadata):
        return []
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extra = get_args(annotation)
        return _loose_strings(base, tuple(extra), in_input)
    if origin in (typing.Union, types.UnionType, list, tuple, set, dict):
        return [name for arg in get_args(annotation) for name in _loose_strings(arg, (), in_input)]
    if annotation is str:
        return [] if in_input else ["str"]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if not issubclass(annotation, Input):
            return [annotation.__name__]
        return [
            name
            for field in annotation.model_fields.values()
            for name in _loose_strings(field.annotation, tuple(field.metadata), True)
        ]
    return []


def test_every_string_an_operation_reads_follows_the_text_rule():
    loose = []
    for name, operation in _operations():
        for model in operation.models:
            for field_name, field in model.model_fields.items():
                for kind in _loose_strings(field.annotation, tuple(field.metadata)):
                    loose.append(f"{name}: {field_name} ({kind})")
    assert loose == []


def test_every_write_is_authorised_before_its_body_is_read():
    unchecked = [
        name
        for name, operation in _operations()
        if WRITES & set(operation.methods)
        and not all(getattr(auth, "access", None) for auth in operation.auth_callbacks)
    ]
    assert unchecked == []
