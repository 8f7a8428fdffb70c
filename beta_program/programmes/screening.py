"""Screening answers: one validator for the application form and the API, so both refuse the
same answers with the same message naming the question."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from beta_program.programmes.exceptions import InvalidAnswer
from beta_program.programmes.models import QuestionKind, ScreeningQuestion

MAX_TEXT = 2000


def clean_answers(questions: list[ScreeningQuestion], raw: dict[str, Any]) -> dict[str, Any]:
    """Answers keyed by question id (as text): a choice must be one of the question's choices,
    several choices a list of them, a number a finite decimal, text at most 2,000 characters.
    Required questions must be answered; answers to unknown questions are refused."""
    known = {str(q.pk): q for q in questions}
    unknown = sorted(set(map(str, raw)) - set(known))
    if unknown:
        raise InvalidAnswer(_("No such question: %s.") % unknown[0], field=f"answers.{unknown[0]}")
    cleaned: dict[str, Any] = {}
    for key, question in known.items():
        value = raw.get(key)
        field = f"answers.{key}"
        empty = value is None or value == "" or value == []
        if empty:
            if question.required:
                raise InvalidAnswer(_("Please answer: %s") % question.display_text, field=field)
            continue
        allowed = [v for v, _label in question.options()]
        if question.kind == QuestionKind.CHOICE:
            if not isinstance(value, str) or value not in allowed:
                raise InvalidAnswer(_("Choose one of the listed answers."), field=field)
        elif question.kind == QuestionKind.MULTIPLE:
            if not isinstance(value, list) or not all(
                isinstance(v, str) and v in allowed for v in value
            ):
                raise InvalidAnswer(_("Choose from the listed answers."), field=field)
            value = sorted(set(value), key=allowed.index)
        elif question.kind == QuestionKind.NUMBER:
            try:
                number = Decimal(str(value).strip())
            except InvalidOperation:
                number = None
            if number is None or not number.is_finite() or isinstance(value, bool):
                raise InvalidAnswer(_("Enter a number."), field=field) from None
            if abs(number) >= Decimal(10) ** 12:
                raise InvalidAnswer(_("Enter a smaller number."), field=field)
            value = str(number)
        else:
            if not isinstance(value, str):
                raise InvalidAnswer(_("Enter text."), field=field)
            value = value.strip()
            if len(value) > MAX_TEXT:
                raise InvalidAnswer(
                    _("Keep the answer under %d characters.") % MAX_TEXT, field=field
                )
        cleaned[key] = value
    return cleaned
