"""The participant's feedback pages: filing from a build they may download (NDA and cohort
gating as for builds), duplicate suggestions, "my reports" with public comments only, their own
attachments, the build survey; everything else 404, including other organisations' reports
through the caller's own URLs."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from beta_program.programmes import actions, feedback_actions
from beta_program.programmes.feedback_actions import Report
from beta_program.programmes.feedback_models import Feedback, SurveyResponse
from beta_program.programmes.models import NdaVersion
from tests.beta_program.builds import make_build
from tests.factories import png_bytes


def _bug(title="Dashboard freezes on export") -> Report:
    return Report(
        kind="bug", title=title, steps="Press Export", actual="It freezes", severity="medium"
    )


def _new_url(org, programme) -> str:
    return reverse(
        "beta:feedback_new", kwargs={"org_slug": org.slug, "programme_slug": programme.slug}
    )


def _detail_url(org, report) -> str:
    return reverse("beta:feedback_detail", kwargs={"org_slug": org.slug, "feedback_id": report.pk})


def test_a_participant_files_a_bug_with_a_screenshot_from_the_page(
    client, tester, org_a, build, recruiting
):
    client.force_login(tester)
    page = client.get(reverse("beta:programme", args=[org_a.slug, recruiting.slug]))
    assert f"feedback/new/?build={build.pk}&amp;kind=bug" in page.content.decode()
    response = client.post(
        _new_url(org_a, recruiting),
        {
            "build": build.pk,
            "kind": "bug",
            "title": "Export freezes",
            "severity": "critical",
            "frequency": "often",
            "steps": "1. Open\n2. Export",
            "actual": "Spinner forever",
            "attachments": [SimpleUploadedFile("shot.png", png_bytes(8, 8))],
        },
    )
    report = Feedback.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/o/acme/beta/feedback/{report.pk}/"
    assert (report.title, report.severity, report.attachments.count()) == (
        "Export freezes",
        "critical",
        1,
    )
    detail = client.get(response["Location"]).content.decode()
    assert "Spinner forever" in detail
    attachment = report.attachments.get()
    download = client.get(
        reverse(
            "beta:feedback_attachment",
            kwargs={"org_slug": "acme", "feedback_id": report.pk, "attachment_id": attachment.pk},
        )
    )
    assert download.status_code == 200
    assert download["X-Content-Type-Options"] == "nosniff"


def test_refusals_land_on_the_field(client, tester, org_a, build, recruiting):
    client.force_login(tester)
    response = client.post(
        _new_url(org_a, recruiting),
        {
            "build": build.pk,
            "kind": "bug",
            "title": "Export freezes",
            "severity": "high",
            "steps": "Press it",
            "actual": "Boom",
            "attachments": [SimpleUploadedFile("shot.png", b"MZ\x90\x00 not an image")],
        },
    )
    assert response.status_code == 200
    assert "shot.png is not an image (PNG, JPEG, GIF, WebP) or a PDF." in response.content.decode()
    response = client.post(
        _new_url(org_a, recruiting),
        {"build": build.pk, "kind": "bug", "title": "Export freezes", "steps": "x", "actual": "y"},
    )
    assert response.context["form"].errors["severity"] == ["Choose a severity."]
    assert Feedback.objects.count() == 0


def test_people_who_may_not_file_get_404(
    client, recruiting, build, org_a, org_b, admin_a, member_b, tester
):
    # A member of the organisation who holds no place.
    client.force_login(admin_a)
    assert client.get(_new_url(org_a, recruiting)).status_code == 404
    # Another organisation, through its own URL and through the participant's.
    client.force_login(member_b)
    assert client.get(_new_url(org_b, recruiting)).status_code == 404
    assert client.get(_new_url(org_a, recruiting)).status_code == 404


def test_under_nda_the_form_opens_after_accepting(client, confidential, org_a, member_a, product):
    actions.submit_application(confidential, org_a, member_a, {})
    make_build(confidential, "4.0.0-beta.3")
    actions.publish_nda(
        NdaVersion.objects.create(programme=confidential, title="NDA", body="Quiet."), product
    )
    client.force_login(member_a)
    assert client.get(_new_url(org_a, confidential)).status_code == 404
    actions.accept_nda(confidential, org_a, member_a, version=1)
    assert client.get(_new_url(org_a, confidential)).status_code == 200


def test_my_reports_show_status_and_public_comments_only(
    client, tester, org_a, build, product, recruiting, django_assert_max_num_queries
):
    reports = [
        feedback_actions.file_feedback(build, org_a, tester, _bug(f"Bug {n}")) for n in range(5)
    ]
    fix = make_build(recruiting, "3.0.0-beta.2")
    feedback_actions.transition(reports[0], "confirmed", product)
    feedback_actions.transition(reports[0], "fixed", product, fixed_in_build=fix)
    feedback_actions.comment(reports[0], product, "Root cause: exporter lock", internal=True)
    feedback_actions.comment(reports[0], product, "Fixed in the next build, thanks!")
    client.force_login(tester)
    with django_assert_max_num_queries(14):
        listing = client.get(reverse("beta:feedback", args=["acme"]))
    body = listing.content.decode()
    assert "Fixed in build 3.0.0-beta.2" in body
    assert body.count("/o/acme/beta/feedback/") >= 5
    detail = client.get(_detail_url(org_a, reports[0])).content.decode()
    assert "Fixed in the next build, thanks!" in detail
    assert "exporter lock" not in detail


def test_a_critical_bug_reads_as_a_severity_in_chinese(client, tester, org_a, build):
    # given a critical bug report
    bug = Report(kind="bug", title="Crash", steps="Open", actual="Crash", severity="critical")
    report = feedback_actions.file_feedback(build, org_a, tester, bug)
    # when its reporter reads it in Chinese
    client.force_login(tester)
    page = client.get(_detail_url(org_a, report), HTTP_ACCEPT_LANGUAGE="zh-hans")
    # then its severity is 严重 (a bug's severity), not an idea's importance
    assert '<span class="badge badge--muted">严重</span>' in page.content.decode()


def test_other_peoples_reports_are_404(
    client, tester, org_a, org_b, admin_a, admin_b, build, recruiting
):
    report = feedback_actions.file_feedback(
        build,
        org_a,
        tester,
        _bug(),
        files=[SimpleUploadedFile("shot.png", png_bytes(4, 4))],
    )
    attachment = report.attachments.get()
    # A colleague in the same organisation (even a participant) does not read it.
    actions.submit_application(recruiting, org_a, admin_a, {})
    client.force_login(admin_a)
    assert client.get(_detail_url(org_a, report)).status_code == 404
    assert client.post(_detail_url(org_a, report), {"body": "me too"}).status_code == 404
    # Another organisation, through its own URL.
    client.force_login(admin_b)
    assert client.get(_detail_url(org_b, report)).status_code == 404
    url = reverse(
        "beta:feedback_attachment",
        kwargs={"org_slug": "globex", "feedback_id": report.pk, "attachment_id": attachment.pk},
    )
    assert client.get(url).status_code == 404
    assert report.comments.count() == 0


def test_the_reporter_answers_and_the_report_goes_back_to_new(
    client, tester, org_a, build, product
):
    report = feedback_actions.file_feedback(build, org_a, tester, _bug())
    feedback_actions.transition(report, "needs_info", product)
    client.force_login(tester)
    response = client.post(_detail_url(org_a, report), {"body": "Firefox 140 on Linux"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == "new"
    assert report.comments.get().body == "Firefox 140 on Linux"


def test_duplicate_suggestions_come_from_the_own_organisation(
    client, tester, org_a, org_b, admin_b, build, recruiting
):
    mine = feedback_actions.file_feedback(build, org_a, tester, _bug("Export freezes the page"))
    actions.submit_application(recruiting, org_b, admin_b, {})
    feedback_actions.file_feedback(build, org_b, admin_b, _bug("Export freezes at Globex"))
    client.force_login(tester)
    url = reverse("beta:feedback_similar", args=["acme", recruiting.slug])
    results = client.get(url, {"q": "export freez"}).json()["results"]
    assert results == [
        {
            "id": mine.pk,
            "title": "Export freezes the page",
            "status": "New",
            "url": f"/o/acme/beta/feedback/{mine.pk}/",
        }
    ]
    assert client.get(url, {"q": "  "}).json() == {"results": []}


def test_duplicate_suggestions_in_chinese(client, tester, org_a, build, recruiting):
    report = feedback_actions.file_feedback(build, org_a, tester, _bug("导出报告时页面卡死"))
    client.force_login(tester)
    url = reverse("beta:feedback_similar", args=["acme", recruiting.slug])
    assert [r["id"] for r in client.get(url, {"q": "卡死"}).json()["results"]] == [report.pk]


def test_the_build_survey(client, tester, org_a, build, recruiting):
    client.force_login(tester)
    url = reverse("beta:survey", args=["acme", recruiting.slug, build.pk])
    assert client.post(url, {"nps": "11", "csat": "3"}).status_code == 200
    response = client.post(url, {"nps": "9", "csat": "4", "comment": "Smooth"})
    assert response.status_code == 302
    assert list(SurveyResponse.objects.values_list("nps", "csat", "comment")) == [(9, 4, "Smooth")]
    assert "You answered this survey on" in client.get(url).content.decode()
    expired = make_build(recruiting, "2.9", days_left=-1)
    assert (
        client.get(reverse("beta:survey", args=["acme", recruiting.slug, expired.pk])).status_code
        == 404
    )


def test_suggestions_rank_shared_title_words_first_and_skip_short_words(
    client, tester, org_a, build, recruiting
):
    other = feedback_actions.file_feedback(build, org_a, tester, _bug("Cabinet fan is loud"))
    best = feedback_actions.file_feedback(build, org_a, tester, _bug("Cabinet drops the site"))
    client.force_login(tester)
    url = reverse("beta:feedback_similar", args=["acme", recruiting.slug])
    ids = [r["id"] for r in client.get(url, {"q": "cabinet drops site"}).json()["results"]]
    assert ids == [best.pk, other.pk]
    assert client.get(url, {"q": "is a on"}).json() == {"results": []}
