"""The audit trail names beta objects in the reader's language: a programme (and what belongs to
it) by the name staff gave in that language, an NDA acceptance by the agreement and its version,
a survey answer by its build; the stored text stays English, whoever wrote the row."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from beta_program.programmes import actions
from beta_program.programmes.feedback_models import SurveyResponse
from beta_program.programmes.models import NdaAcceptance, NdaVersion
from portal import audit_labels
from portal.models import AuditEvent
from tests.beta_program.builds import make_build


def _shown(event: AuditEvent, language: str) -> str:
    with translation.override(language):
        return AuditEvent.objects.get(pk=event.pk).object_text


def test_an_application_names_the_programme_as_staff_named_it_in_chinese(
    client, make_programme, org_a, member_a, admin_a
):
    # given a programme staff named in both languages, and a member's application to it
    programme = make_programme(name="Monitor app beta", name_zh="监控应用测试版")
    with translation.override("zh-hans"):
        actions.submit_application(programme, org_a, member_a, {})
    event = AuditEvent.objects.get(object_type="beta_program.application")
    # then the row keeps English, and each reader reads the programme in their language
    assert event.object_repr == "Monitor app beta · Acme Solar"
    assert _shown(event, "en") == "Monitor app beta · Acme Solar"
    assert _shown(event, "zh-hans") == "监控应用测试版 · Acme Solar"
    # and so does the organisation's trail, read in Chinese
    client.force_login(admin_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html = client.get(reverse("portal:audit_log", args=[org_a.slug])).content.decode()
    assert "监控应用测试版 · Acme Solar" in html
    assert "Monitor app beta · Acme Solar" not in html


def test_a_programme_without_a_chinese_name_keeps_its_english_name(make_programme):
    programme = make_programme(name="Monitor app beta")
    event = AuditEvent.objects.filter(object_type="beta_program.programme").latest("pk")
    assert event.object_id == str(programme.pk)
    assert _shown(event, "zh-hans") == "Monitor app beta"


def test_an_nda_acceptance_is_named_by_the_agreement_and_its_version(confidential):
    nda = NdaVersion(programme=confidential, title="Firmware NDA", version=1)
    repr_, label = audit_labels.describe(NdaAcceptance(nda=nda, version=1))
    # not "<user id> accepted <nda id>"
    assert repr_ == "Firmware NDA (v1)"
    with translation.override("zh-hans"):
        assert audit_labels.render("beta_program.ndaacceptance", label) == "Firmware NDA（第 1 版）"


def test_a_draft_nda_shows_its_status_in_chinese(confidential):
    draft = NdaVersion(programme=confidential, title="Firmware NDA")
    repr_, label = audit_labels.describe(draft)
    assert repr_ == "Firmware NDA (Draft)"
    with translation.override("zh-hans"):
        assert audit_labels.render("beta_program.ndaversion", label) == "Firmware NDA（草稿）"


def test_a_survey_answer_is_named_by_its_build(recruiting):
    build = make_build(recruiting, "3.0.0-beta.1")
    repr_, label = audit_labels.describe(SurveyResponse(build=build))
    # not "survey <id> on build <id>"
    assert repr_ == "Survey of build 3.0.0-beta.1"
    with translation.override("zh-hans"):
        assert audit_labels.render("beta_program.surveyresponse", label) == (
            "版本 3.0.0-beta.1 的调查"
        )
