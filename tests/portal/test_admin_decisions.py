"""portal.admin_decisions asked directly: the form a decision gets and the buttons a screen makes
(the four review queues that use it are tested through their screens)."""

from __future__ import annotations

from django import forms

from portal.admin_decisions import Decision, DecisionScreen, Reason


class DateForm(forms.Form):
    day = forms.DateField()


def _decision(name: str, **kwargs) -> Decision:
    return Decision(
        name=name, label=name.title(), title=name, icon="check", perform=print, message="", **kwargs
    )


NOTE = Reason("note", "Note", max_length=10)
WHY = Reason("why", "Why?", required=True)
SCREEN = DecisionScreen(
    index_label="Queue",
    reason=NOTE,
    decisions=[_decision("accept"), _decision("reject", reason=WHY), _decision("plan")],
)


def test_a_decision_gets_its_own_reason_or_the_screens_after_its_fields():
    accept = SCREEN.form_class(SCREEN.decision("accept"))()
    assert list(accept.fields) == ["note"]
    assert (accept.fields["note"].required, accept.fields["note"].max_length) == (False, 10)
    reject = SCREEN.form_class(SCREEN.decision("reject"))({"why": " "})
    assert list(reject.fields) == ["why"]
    assert not reject.is_valid()
    assert reject.errors == {"why": ["This field is required."]}
    planned = DecisionScreen(
        index_label="Queue", decisions=[_decision("plan", form_class=DateForm, reason=NOTE)]
    )
    assert list(planned.form_class(planned.decision("plan"))().fields) == ["day", "note"]


def test_without_a_reason_the_form_is_the_decisions_own():
    screen = DecisionScreen(index_label="Queue", decisions=[_decision("plan", form_class=DateForm)])
    assert screen.form_class(screen.decision("plan")) is DateForm


class FakeViewSet:
    def url(self, name, obj):
        return f"/{name}/{obj}/"


class FakeButton:
    def __init__(self, label, *, url, icon_name, **kwargs):
        self.seen = (label, url, icon_name, kwargs)


def test_buttons_follow_the_decisions_or_the_names_given():
    every = SCREEN.buttons(FakeViewSet(), 7, button_class=FakeButton)
    assert [b.seen for b in every] == [
        ("Accept", "/accept/7/", "check", {}),
        ("Reject", "/reject/7/", "check", {}),
        ("Plan", "/plan/7/", "check", {}),
    ]
    named = SCREEN.buttons(FakeViewSet(), 7, ["plan", "accept"], FakeButton, priority=40)
    assert [b.seen for b in named] == [
        ("Plan", "/plan/7/", "check", {"priority": 40}),
        ("Accept", "/accept/7/", "check", {"priority": 40}),
    ]
