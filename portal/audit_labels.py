"""How an audit event names its object, in the reader's language.

A row's `object_repr` is text fixed when it was written. Where a model composes its name from
words and choice labels ("Maintenance visit for Acme (Fulfilled)"), that text would show one
language to every reader. Such a model offers `audit_label()`: a msgid with %-placeholders,
the plain values (names people typed, numbers), the choice fields whose *codes* fill other
placeholders, and names staff gave in both languages (a beta programme's name and its Chinese
twin), of which the reader's is shown. The event stores these (`object_label`) beside an
English `object_repr` (for the CSV and the staff export), and pages render the msgid and the
choice labels in the reader's language when they show the row. Rows are append-only, so rows
written before this keep their text; for them a trailing "(<status label>)" in English is still
translated.
"""

from __future__ import annotations

from typing import Any, NotRequired, Protocol, TypedDict, runtime_checkable

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import translation
from django.utils.translation import gettext, gettext_noop


class AuditLabel(TypedDict):
    text: str  # a msgid (marked with gettext_noop where it is written), %(name)s placeholders
    args: NotRequired[dict[str, str]]  # shown as stored
    choices: NotRequired[dict[str, str]]  # placeholder = the object's choice field -> its code
    # placeholder -> a name staff gave in each language ({"en": ..., "zh-hans": ...}): the
    # reader's, else the English one
    localised: NotRequired[dict[str, dict[str, str]]]


def twins(obj: object, field: str) -> dict[str, str]:
    """`field` and its Chinese twin `<field>_zh` (when staff filled it in), for `localised`."""
    texts = {"en": str(getattr(obj, field))}
    if chinese := getattr(obj, f"{field}_zh", ""):
        texts["zh-hans"] = str(chinese)
    return texts


def named(obj: object, field: str = "name") -> AuditLabel:
    """The label of an object known by one name staff gave in both languages (`twins`)."""
    return {"text": gettext_noop("%(name)s"), "localised": {"name": twins(obj, field)}}


@runtime_checkable
class AuditLabelled(Protocol):
    def audit_label(self) -> AuditLabel: ...


def describe(obj: models.Model) -> tuple[str, dict[str, Any]]:
    """(object_repr, object_label) for a new event about `obj`. The repr is English whoever
    acts (the msgids are English), so a row's text does not depend on its writer's language."""
    if not isinstance(obj, AuditLabelled):
        return str(obj)[:255], {}
    label = obj.audit_label()
    with translation.override(None):
        return render(obj._meta.label_lower, dict(label))[:255], dict(label)


def _choice_label(object_type: str, field: str, code: str) -> str:
    try:
        model = apps.get_model(object_type)
        choices = dict(model._meta.get_field(field).flatchoices)
    except (LookupError, ValueError, FieldDoesNotExist):
        return code
    return str(choices.get(code, code))


def render(object_type: str, label: dict[str, Any]) -> str:
    """The label in the active language; a choice code the model no longer has shows as is."""
    values = dict(label.get("args") or {})
    for name, code in (label.get("choices") or {}).items():
        values[name] = _choice_label(object_type, name, code)
    language = translation.get_language() or "en"
    for name, texts in (label.get("localised") or {}).items():
        values[name] = texts.get(language) or texts["en"]
    return gettext(label["text"]) % values


def legacy_text(object_type: str, text: str) -> str:
    """An older row's text, with a trailing "(<English status label>)" in the reader's
    language: the status is the one part of such a name the reader's language can replace."""
    if not text.endswith(")") or not object_type:
        return text
    try:
        field = apps.get_model(object_type)._meta.get_field("status")
    except (LookupError, ValueError, FieldDoesNotExist):
        return text
    with translation.override(None):
        english = {str(label): label for _code, label in field.flatchoices}
    head, sep, tail = text[:-1].rpartition(" (")
    if sep and tail in english:
        return f"{head} ({english[tail]})"
    return text


def object_text(object_type: str, object_repr: str, object_label: dict[str, Any]) -> str:
    """What a page shows in an event's Object column, in the active language."""
    if object_label:
        try:
            return render(object_type, object_label)
        except (KeyError, TypeError, ValueError):
            return object_repr
    return legacy_text(object_type, object_repr)
