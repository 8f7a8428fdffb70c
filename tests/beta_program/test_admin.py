"""The Wagtail admin screens: product staff create a programme (audited), change its status on
the confirmation screen and work the application review queue; other staff are refused."""

from __future__ import annotations

from django.urls import reverse

from beta_program.programmes import actions
from beta_program.programmes.models import (
    Application,
    NdaVersion,
    Programme,
    QuestionKind,
    ScreeningQuestion,
)
from portal.models import AuditEvent


def test_product_staff_create_a_confidential_programme_in_the_admin(client, product):
    client.force_login(product)
    response = client.post(
        reverse("beta_programmes:add"),
        {
            "name": "Firmware 4.0",
            "name_zh": "固件 4.0",
            "slug": "fw-4",
            "product_line": "Storage",
            "summary": "Pre-release firmware",
            "summary_zh": "",
            "goals": "",
            "exit_criteria": "",
            "confidentiality": "nda",
            "eligible_tiers": ["silver", "gold"],
            "eligible_countries": "de, cn",
            "required_skus": "BAT-LFP-215",
            "applicant_min_role": "member",
            "capacity_total": "5",
            "capacity_per_organisation": "1",
            "auto_accept": "on",
            "phases-TOTAL_FORMS": "1",
            "phases-INITIAL_FORMS": "0",
            "phases-MIN_NUM_FORMS": "0",
            "phases-MAX_NUM_FORMS": "1000",
            "phases-0-name": "Wave 1",
            "phases-0-name_zh": "第一批",
            "phases-0-starts_on": "2027-01-04",
            "phases-0-ends_on": "2027-02-26",
            "phases-0-ORDER": "1",
            "phases-0-id": "",
            "phases-0-DELETE": "",
            "questions-TOTAL_FORMS": "0",
            "questions-INITIAL_FORMS": "0",
            "questions-MIN_NUM_FORMS": "0",
            "questions-MAX_NUM_FORMS": "1000",
            "environment_fields-TOTAL_FORMS": "1",
            "environment_fields-INITIAL_FORMS": "0",
            "environment_fields-MIN_NUM_FORMS": "0",
            "environment_fields-MAX_NUM_FORMS": "1000",
            "environment_fields-0-label": "Firmware version",
            "environment_fields-0-label_zh": "固件版本",
            "environment_fields-0-required": "on",
            "environment_fields-0-ORDER": "1",
            "environment_fields-0-id": "",
            "environment_fields-0-DELETE": "",
        },
    )
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    programme = Programme.objects.get(slug="fw-4")
    assert (programme.status, programme.confidentiality, programme.created_by) == (
        "planning",
        "nda",
        product,
    )
    assert programme.eligible_tiers == ["silver", "gold"]
    assert programme.eligible_countries == ["DE", "CN"]
    assert programme.required_skus == ["BAT-LFP-215"]
    assert [p.name for p in programme.phases.all()] == ["Wave 1"]
    assert [(f.label, f.required) for f in programme.environment_fields.all()] == [
        ("Firmware version", True)
    ]
    created = AuditEvent.objects.get(action="beta.programme_created")
    assert created.details["confidentiality"] == "nda"


def test_the_status_screen_offers_only_allowed_transitions_and_records_them(
    client, product, make_programme
):
    programme = make_programme(status="planning")
    client.force_login(product)
    url = reverse("beta_programmes:change_status", args=(programme.pk,))
    form = client.get(url).context["form"]
    assert [value for value, _label in form.fields["status"].choices] == ["recruiting", "running"]
    response = client.post(url, {"status": "recruiting", "note": "Open the doors"})
    assert response.status_code == 302
    programme.refresh_from_db()
    assert programme.status == "recruiting"
    assert client.get(reverse("beta_programmes:inspect", args=(programme.pk,))).status_code == 200


def test_other_staff_cannot_change_a_status_or_decide(
    client, staff_success, make_programme, org_a, admin_a
):
    programme = make_programme(auto_accept=False)
    application = actions.submit_application(programme, org_a, admin_a, {})
    client.force_login(staff_success)
    url = reverse("beta_programmes:change_status", args=(programme.pk,))
    # Wagtail answers a refused admin screen by sending the user to the dashboard
    assert client.post(url, {"status": "running"})["Location"] == "/admin/"
    accept = reverse("beta_applications:accept", args=(application.pk,))
    assert client.post(accept, {"reason": ""})["Location"] == "/admin/"
    programme.refresh_from_db()
    application.refresh_from_db()
    assert (programme.status, application.status) == ("recruiting", "pending")


def test_the_review_queue_accepts_and_rejects_with_a_reason(
    client, product, make_programme, org_a, admin_a, member_a, django_assert_max_num_queries
):
    programme = make_programme(auto_accept=False)
    first = actions.submit_application(programme, org_a, admin_a, {})
    second = actions.submit_application(programme, org_a, member_a, {})
    client.force_login(product)
    index = reverse("beta_applications:index")
    assert client.get(index).status_code == 200
    with django_assert_max_num_queries(40):
        assert client.get(index).status_code == 200
    assert client.get(reverse("beta_applications:inspect", args=(first.pk,))).status_code == 200
    assert (
        client.post(
            reverse("beta_applications:accept", args=(first.pk,)), {"reason": ""}
        ).status_code
        == 302
    )
    refused = client.post(reverse("beta_applications:reject", args=(second.pk,)), {"reason": ""})
    assert refused.status_code == 200
    assert refused.context["form"].errors == {"reason": ["Say why the application is rejected."]}
    client.post(reverse("beta_applications:reject", args=(second.pk,)), {"reason": "Full"})
    assert list(Application.objects.order_by("pk").values_list("status", "reason")) == [
        ("accepted", ""),
        ("rejected", "Full"),
    ]


def test_product_staff_create_a_cohort_with_participants_and_a_build(
    client, product, make_programme, org_a, admin_a, member_a
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from beta_program.programmes.models import Build, Cohort

    programme = make_programme()
    actions.submit_application(programme, org_a, admin_a, {})
    client.force_login(product)
    # a cohort: its group is created, and only participants may be members
    refused = client.post(
        reverse("beta_cohorts:add"),
        {"programme": programme.pk, "name": "Wave 1", "name_zh": "", "members": [member_a.pk]},
    )
    assert refused.status_code == 200
    assert Cohort.objects.count() == 0
    response = client.post(
        reverse("beta_cohorts:add"),
        {"programme": programme.pk, "name": "Wave 1", "name_zh": "第一批", "members": [admin_a.pk]},
    )
    assert response.status_code == 302
    cohort = Cohort.objects.get()
    assert list(cohort.group.user_set.all()) == [admin_a]
    # a build: its SHA-256 and size are computed from the upload
    response = client.post(
        reverse("beta_builds:add"),
        {
            "programme": programme.pk,
            "version": "3.0-beta.1",
            "release_notes": "First",
            "what_to_test": "Offline mode",
            "file": SimpleUploadedFile("app.apk", b"apk-bytes"),
            "external_url": "",
            "expires_on": "2027-03-01",
            "min_nda_version": "",
            "cohorts": [cohort.pk],
        },
    )
    assert response.status_code == 302
    build = Build.objects.get()
    assert build.size == 9
    # sha256(b"apk-bytes")
    assert build.sha256 == "1e10ba560383b17472b4cf72fef8f9e76c66815a3e6ae8c5a9b0c5e696b0bdf8"


def test_inspect_screens_show_readable_values_never_python_ones(
    client, product, make_programme, org_a, admin_a
):
    # given an auto-accepting programme and an application it accepted by itself
    programme = make_programme(auto_accept=True)
    question = ScreeningQuestion.objects.create(
        programme=programme, text="How many plants?", kind=QuestionKind.NUMBER
    )
    application = actions.submit_application(programme, org_a, admin_a, {str(question.pk): 3})
    client.force_login(product)
    # when staff inspect them
    programme_page, application_page = (
        " ".join(client.get(reverse(name, args=(pk,))).content.decode().split())
        for name, pk in (
            ("beta_programmes:inspect", programme.pk),
            ("beta_applications:inspect", application.pk),
        )
    )
    # then yes/no reads "Yes", nobody reads "—", answers read by question: no True, None or dict
    assert "<dt>Accept automatically</dt> <dd> Yes </dd>" in programme_page
    assert "<dt>Places in total</dt> <dd> No limit </dd>" in programme_page
    assert "<dt>Auto decided</dt> <dd> Yes </dd>" in application_page
    assert "<dt>Decided by</dt> <dd> — </dd>" in application_page
    assert "<dt>Answers</dt> <dd> How many plants?: 3 </dd>" in application_page
    for page in (programme_page, application_page):
        assert "<dd> True </dd>" not in page
        assert "<dd> None </dd>" not in page
        assert "{&#x27;" not in page


def test_the_programme_form_names_one_phase_and_one_question_at_a_time(client, product):
    # when product staff open the new-programme form
    client.force_login(product)
    page = client.get(reverse("beta_programmes:add")).content.decode()
    # then each inline row is called in the singular ("Phase 1", "Add phase")
    assert "Phases 1" not in page
    assert "Add Screening questions" not in page
    assert "Add Phase\n" in page
    assert "Add Screening question\n" in page


def test_a_draft_nda_is_published_from_its_edit_screen(client, product, make_programme):
    # given a draft NDA version of a programme
    programme = make_programme()
    draft = NdaVersion.objects.create(programme=programme, title="Beta NDA", body="Keep quiet.")
    client.force_login(product)
    # when product staff edit it
    page = client.get(f"/admin/beta_ndas/edit/{draft.pk}/").content.decode()
    # then the screen offers to publish it, on the confirmation screen
    assert f'href="/admin/beta_ndas/publish/{draft.pk}/"' in page
    assert client.get(f"/admin/beta_ndas/publish/{draft.pk}/").status_code == 200


def test_cohort_members_are_offered_by_name_and_e_mail(
    client, product, make_programme, org_a, admin_a
):
    # given a participant of a programme
    programme = make_programme()
    actions.submit_application(programme, org_a, admin_a, {})
    admin_a.first_name, admin_a.last_name = "Wei", "Li"
    admin_a.save()
    client.force_login(product)
    # when product staff add a cohort
    form = client.get(reverse("beta_cohorts:add")).context["form"]
    # then each person reads with their e-mail, so two of the same name can be told apart
    labels = [label for _value, label in form.fields["members"].choices]
    assert labels == ["Wei Li (admin@acme.example)"]
