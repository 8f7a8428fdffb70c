"""The dataset workflow: CSV validation with row/column errors, immutability of published data,
four-eyes approval, versions and comparison, and the admin screens around them."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from carbon.footprint import actions, datasets
from carbon.footprint.exceptions import DatasetError, FactorFileError
from carbon.footprint.factor_files import read_factor_file
from carbon.models import DatasetStatus, EmissionFactor, FactorDataset, ImmutableError
from portal.models import AuditEvent, OutboxEvent
from portal.staff_roles import StaffRole, ensure_staff_groups
from tests.factories import UserFactory
from tests.properties import examples

pytestmark = pytest.mark.django_db

HEADER = (
    "category,kind,energy_scope,radiative_forcing,value,unit,region,valid_from,valid_to,"
    "source_label,source_id,description\n"
)
GOOD_ROW = (
    "road.hgv.average_laden,freight,TTW,false,0.10163,kgCO2e/(tonne*km),GLO,2025-01-01,,"
    "Freighting goods > HGV (all diesel) > All HGVs > Average laden > tonne.km,"
    "27_304_3140_14_1,All HGVs average laden\n"
)
WTT_ROW = (
    "road.hgv.average_laden,freight,WTT,false,0.02359,kgCO2e/(tonne*km),GLO,2025-01-01,,"
    "WTT- HGV (all diesel) > All HGVs > Average laden > tonne.km,28_907_3140_14_1,WTT row\n"
)


def csv_bytes(*rows: str) -> bytes:
    return (HEADER + "".join(rows)).encode("utf-8")


def _sustainability(email, enable_totp):
    ensure_staff_groups()
    user = UserFactory(email=email, is_staff=True)
    user.groups.add(Group.objects.get(name=StaffRole.SUSTAINABILITY))
    enable_totp(user)
    return user


@pytest.fixture
def alice(db, enable_totp):
    return _sustainability("alice@greenloop.example", enable_totp)


@pytest.fixture
def bob(db, enable_totp):
    return _sustainability("bob@greenloop.example", enable_totp)


@pytest.fixture
def draft(alice):
    return actions.create_draft_dataset(
        by=alice,
        slug="test-factors",
        title="Test factors",
        publisher="Test publisher",
        publication_date=dt.date(2025, 6, 10),
        licence="OGL v3.0",
        source_url="https://example.org/factors",
        gwp_basis="AR5",
        distance_basis="as given",
    )


@pytest.fixture
def submitted(draft, alice):
    actions.import_factors_csv(draft, csv_bytes(GOOD_ROW, WTT_ROW), by=alice)
    return actions.submit_for_approval(draft, alice)


@pytest.fixture
def published(submitted, bob):
    return actions.approve_and_publish(submitted, bob)


# --- parsing and validation


def test_a_valid_file_is_imported_into_a_draft(draft, alice):
    count = actions.import_factors_csv(draft, csv_bytes(GOOD_ROW, WTT_ROW), by=alice)
    assert count == 2
    f = draft.factors.get(energy_scope="TTW")
    assert f.value == Decimal("0.10163")
    assert f.source_id == "27_304_3140_14_1"
    assert AuditEvent.objects.filter(action="carbon.dataset.factors_imported").count() == 1


def test_bad_rows_are_reported_by_row_and_column_and_nothing_is_stored(draft, alice):
    # given a file with one good row and several bad ones (lines 2 to 7 of the file)
    content = csv_bytes(
        GOOD_ROW,
        GOOD_ROW.replace("road.hgv.average_laden", "road.hovercraft"),
        WTT_ROW.replace("0.02359", "-1"),
        WTT_ROW.replace(",TTW,", ",TTW,").replace("kgCO2e/(tonne*km)", "kgCO2e/kWh"),
        GOOD_ROW.replace(",TTW,false,", ",TTW,true,"),
        GOOD_ROW.replace("2025-01-01", "01/01/2025"),
    )
    # when it is imported
    with pytest.raises(FactorFileError) as caught:
        actions.import_factors_csv(draft, content, by=alice)
    # then every problem names its row and column
    assert [str(e) for e in caught.value.errors] == [
        "row 3, column category: unknown category 'road.hovercraft' (a code from "
        "carbon/footprint/categories.py, fuel.<fuel type> or "
        "electricity.<region>.<location|residual>)",
        "row 4, column value: an emission factor cannot be negative",
        "row 5, column unit: 'kgCO2e/kWh' is not a freight factor unit like kgCO2e / (tonne * km) "
        "(or kgCO2 / (tonne * km) for a factor that counts CO2 alone)",
        "row 6, column radiative_forcing: only air freight factors can include radiative forcing",
        "row 7, column valid_from: '01/01/2025' is not a date (YYYY-MM-DD)",
    ]
    # and nothing was stored, not even the good row
    assert EmissionFactor.objects.count() == 0


def test_an_unterminated_quote_refuses_the_file_instead_of_reading_part_of_it(draft, alice):
    # given a good row followed by a row whose quoted field never closes
    content = csv_bytes(GOOD_ROW, WTT_ROW.replace(",WTT,", ',"WTT,'))
    # when it is imported
    with pytest.raises(FactorFileError) as caught:
        actions.import_factors_csv(draft, content, by=alice)
    # then the file is refused and the good row was not kept
    assert any("row" in str(e) for e in caught.value.errors)
    assert EmissionFactor.objects.count() == 0


def test_comment_lines_count_in_the_row_numbers(draft, alice):
    content = b"# source: somewhere\n# licence: x\n" + csv_bytes(
        GOOD_ROW.replace("freight", "fuel")
    )
    with pytest.raises(FactorFileError) as caught:
        actions.import_factors_csv(draft, content, by=alice)
    assert [str(e) for e in caught.value.errors] == [
        "row 4, column kind: category 'road.hgv.average_laden' needs kind 'freight', not 'fuel'",
        "row 4, column unit: 'kgCO2e/(tonne*km)' is not CO2e (or CO2) per litre, per kg "
        "or per kWh of fuel",
    ]


def test_missing_columns_and_duplicate_rows_are_errors(draft, alice):
    with pytest.raises(FactorFileError) as caught:
        actions.import_factors_csv(
            draft, b"category,kind,value\nrail.freight,freight,1\n", by=alice
        )
    assert {e.column for e in caught.value.errors} == {
        "energy_scope",
        "radiative_forcing",
        "unit",
        "region",
        "valid_from",
        "valid_to",
        "source_label",
        "source_id",
        "description",
    }
    with pytest.raises(FactorFileError) as caught:
        actions.import_factors_csv(draft, csv_bytes(GOOD_ROW, GOOD_ROW), by=alice)
    assert [str(e) for e in caught.value.errors] == [
        "row 3, column category: duplicates row 2 (same category, energy scope, radiative "
        "forcing and region)"
    ]
    assert EmissionFactor.objects.count() == 0


def test_a_bad_reference_file_stores_no_dataset(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes(GOOD_ROW))  # no citation metadata in the header
    with pytest.raises(FactorFileError) as caught:
        actions.load_dataset_file(path, slug="bad", version=1)
    assert "row 1, column # title: metadata line missing from the file header" in [
        str(e) for e in caught.value.errors
    ]
    assert FactorDataset.objects.count() == 0


@settings(max_examples=examples(50))
@given(
    st.decimals(min_value=0, max_value=Decimal("9999999999"), places=5, allow_nan=False),
)
def test_any_published_decimal_is_read_exactly(value):
    parsed = read_factor_file(csv_bytes(GOOD_ROW.replace("0.10163", str(value))))
    assert parsed.rows[0].value == value


@settings(max_examples=examples(30))
@given(st.text(min_size=1, max_size=12).filter(lambda t: "," not in t and "\n" not in t))
def test_unknown_units_are_row_errors_never_crashes(unit):
    content = csv_bytes(GOOD_ROW.replace("kgCO2e/(tonne*km)", unit.strip() or "?"))
    try:
        read_factor_file(content)
        columns = set()
    except FactorFileError as exc:
        columns = {e.column for e in exc.errors}
    assert columns <= {"unit", "row", "value"}


# --- immutability


def test_published_factors_cannot_change_or_be_deleted(published):
    f = published.factors.get(energy_scope="TTW")
    f.value = Decimal("0.2")
    with pytest.raises(ImmutableError):
        f.save()
    with pytest.raises(ImmutableError):
        f.delete()
    assert published.factors.get(energy_scope="TTW").value == Decimal("0.10163")


def test_a_published_dataset_keeps_its_citation(published):
    published.title = "Something else"
    with pytest.raises(ImmutableError):
        published.save()
    with pytest.raises(ImmutableError):
        FactorDataset.objects.get(pk=published.pk).delete()
    assert FactorDataset.objects.get(pk=published.pk).title == "Test factors"
    # but the default flag may move
    published.refresh_from_db()
    published.is_default = True
    published.save()
    assert FactorDataset.objects.get(pk=published.pk).is_default is True


def test_factors_cannot_be_imported_into_a_published_dataset(published, alice):
    with pytest.raises(DatasetError):
        actions.import_factors_csv(published, csv_bytes(GOOD_ROW), by=alice)
    assert published.factors.count() == 2


# --- four-eyes approval


def test_the_submitter_cannot_approve(submitted, alice):
    with pytest.raises(DatasetError, match="four-eyes"):
        actions.approve_and_publish(submitted, alice)
    stored = FactorDataset.objects.get(pk=submitted.pk)
    assert stored.status == DatasetStatus.AWAITING_APPROVAL
    assert stored.approved_by is None
    assert stored.published_at is None
    assert not AuditEvent.objects.filter(action="carbon.dataset.approved").exists()


def test_a_second_sustainability_staff_member_approves(
    submitted, alice, bob, received_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        actions.approve_and_publish(submitted, bob, make_default=True)
    stored = FactorDataset.objects.get(pk=submitted.pk)
    assert stored.status == DatasetStatus.PUBLISHED
    assert stored.submitted_by == alice
    assert stored.approved_by == bob
    assert stored.published_at is not None
    assert stored.is_default is True
    event = AuditEvent.objects.get(action="carbon.dataset.approved")
    assert event.actor == bob
    assert event.details["submitted_by"] == "alice@greenloop.example"
    assert event.details["approved_by"] == "bob@greenloop.example"
    assert [e.type for e in received_events] == ["greenloop.carbon.dataset_published"]
    assert OutboxEvent.objects.get().subject == "datasets/test-factors@1"


def test_customers_and_other_staff_cannot_manage_datasets(draft, member_a, staff_success):
    for user in (member_a, staff_success):
        with pytest.raises(DatasetError):
            actions.import_factors_csv(draft, csv_bytes(GOOD_ROW), by=user)
        with pytest.raises(DatasetError):
            actions.submit_for_approval(draft, user)
    assert draft.factors.count() == 0


def test_an_empty_draft_cannot_be_submitted(draft, alice):
    with pytest.raises(DatasetError, match="no factors"):
        actions.submit_for_approval(draft, alice)
    assert FactorDataset.objects.get(pk=draft.pk).status == DatasetStatus.DRAFT


# --- versions and comparison


def test_a_new_version_copies_the_factors_and_supersedes(published, alice):
    draft = actions.create_new_version(published, alice)
    assert (draft.slug, draft.version, draft.status) == ("test-factors", 2, DatasetStatus.DRAFT)
    assert draft.supersedes == published
    assert sorted(draft.factors.values_list("value", flat=True)) == [
        Decimal("0.02359"),
        Decimal("0.10163"),
    ]


def test_compare_shows_changed_added_and_removed_factors(published, alice, bob):
    # given a new version with one value corrected, one factor removed and one added
    draft = actions.create_new_version(published, alice)
    ttw = draft.factors.get(energy_scope="TTW")
    ttw.value = Decimal("0.10200")
    ttw.save()
    draft.factors.get(energy_scope="WTT").delete()
    actions.import_factors_csv(
        draft, csv_bytes(GOOD_ROW.replace("road.hgv.average_laden", "rail.freight")), by=alice
    )
    # when compared with the published version
    diff = datasets.compare_datasets(published, draft)
    # then
    assert [(c.category, c.energy_scope, c.old_value, c.new_value) for c in diff.changed] == [
        ("road.hgv.average_laden", "TTW", Decimal("0.10163"), Decimal("0.10200"))
    ]
    assert diff.changed[0].changed_fields == ["value"]
    assert [(c.category, c.energy_scope) for c in diff.removed] == [
        ("road.hgv.average_laden", "WTT")
    ]
    assert [(c.category, c.new_value) for c in diff.added] == [("rail.freight", Decimal("0.10163"))]
    assert diff.unchanged == 0


def test_publishing_a_new_default_version_moves_the_default(published, alice, bob):
    published.refresh_from_db()
    datasets.make_default(published)
    v2 = actions.create_new_version(published, alice)
    actions.submit_for_approval(v2, alice)
    actions.approve_and_publish(v2, bob)  # inherits the default flag of what it supersedes
    assert FactorDataset.objects.get(pk=v2.pk).is_default is True
    assert FactorDataset.objects.get(pk=published.pk).is_default is False
    assert FactorDataset.objects.active() == FactorDataset.objects.get(pk=v2.pk)


# --- admin screens


def url(name, *args):
    return reverse(f"carbon_datasets:{name}", args=args)


def test_sustainability_staff_reach_every_dataset_screen(client, alice, bob, submitted):
    client.force_login(bob)
    for target in (
        url("index"),
        url("add"),
        url("inspect", submitted.pk),
        url("approve", submitted.pk),
        url("compare", submitted.pk),
        reverse("carbon_factors:index"),
        reverse("carbon_products:index"),
        reverse("carbon_products:add"),
    ):
        response = client.get(target)
        assert response.status_code == 200, target
    response = client.get(url("inspect", submitted.pk))
    html = response.content.decode()
    assert "27_304_3140_14_1" in html
    assert "Approve and publish" in html
    # and units read as people write them, not as Pint stores them
    factors = client.get(reverse("carbon_factors:index")).content.decode()
    for page in (html, factors):
        assert "t·km" in page
        assert "(tonne * km)" not in page
        # values as the source gives them, without the column's trailing zeros
        assert not re.search(r"\d\.\d*00000\b", page)


def test_draft_screens_and_factor_export(client, alice, draft):
    client.force_login(alice)
    assert client.get(url("edit", draft.pk)).status_code == 200
    assert client.get(url("import", draft.pk)).status_code == 200
    assert client.get(url("submit", draft.pk)).status_code == 200
    response = client.get(reverse("carbon_factors:index"), {"export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")


def dataset_form(**fields: str) -> dict[str, str]:
    """The admin's new-dataset form, filled in as a staff member would."""
    return {
        "slug": "admin-made",
        "title": "Admin made",
        "publisher": "P",
        "publication_date": "2025-06-10",
        "licence": "OGL",
        "source_url": "https://example.org/x",
        "gwp_basis": "AR5",
        "distance_basis": "as given",
        "notes": "",
        **fields,
    }


def test_staff_create_a_draft_and_import_factors_in_the_admin(client, alice):
    client.force_login(alice)
    response = client.post(url("add"), dataset_form(slug="admin-made", title="Admin made"))
    assert response.status_code == 302
    ds = FactorDataset.objects.get(slug="admin-made")
    assert (ds.status, ds.created_by, ds.version) == (DatasetStatus.DRAFT, alice, 1)
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("f.csv", csv_bytes(GOOD_ROW.replace("0.10163", "abc")))
    response = client.post(url("import", ds.pk), {"file": bad})
    assert response.status_code == 200
    assert "row 2, column value: &#x27;abc&#x27; is not a number" in response.content.decode()
    assert ds.factors.count() == 0
    good = SimpleUploadedFile("f.csv", csv_bytes(GOOD_ROW))
    response = client.post(url("import", ds.pk), {"file": good})
    assert response.status_code == 302
    assert ds.factors.count() == 1


def test_a_source_link_pasted_without_a_scheme_is_stored_as_https(client, alice):
    client.force_login(alice)
    form = dataset_form(
        slug="bare-host", source_url="www.gov.uk/government/collections/conversion-factors"
    )
    response = client.post(url("add"), form)
    assert response.status_code == 302
    assert (
        FactorDataset.objects.get(slug="bare-host").source_url
        == "https://www.gov.uk/government/collections/conversion-factors"
    )


def test_the_submitter_is_told_to_find_a_second_approver(client, alice, submitted):
    client.force_login(alice)
    response = client.post(url("approve", submitted.pk), {"make_default": ""}, follow=True)
    assert response.status_code == 200
    assert "four-eyes" in response.content.decode()
    assert FactorDataset.objects.get(pk=submitted.pk).status == DatasetStatus.AWAITING_APPROVAL


def test_a_second_staff_member_approves_in_the_admin(client, bob, submitted):
    client.force_login(bob)
    response = client.post(url("approve", submitted.pk), {"make_default": "on"})
    assert response.status_code == 302
    stored = FactorDataset.objects.get(pk=submitted.pk)
    assert (stored.status, stored.approved_by, stored.is_default) == (
        DatasetStatus.PUBLISHED,
        bob,
        True,
    )


def test_a_published_dataset_has_no_edit_screen(client, alice, published):
    client.force_login(alice)
    response = client.get(url("edit", published.pk))
    assert response.status_code == 302
    assert response["Location"] == url("inspect", published.pk)


def test_customers_are_refused_every_carbon_admin_screen(client, member_a, draft):
    client.force_login(member_a)
    for target in (
        url("index"),
        url("inspect", draft.pk),
        url("import", draft.pk),
        url("approve", draft.pk),
        reverse("carbon_factors:index"),
        reverse("carbon_products:index"),
    ):
        response = client.get(target)
        assert response.status_code == 302, target
        assert response["Location"].startswith("/accounts/login/")


def test_staff_outside_sustainability_cannot_run_the_workflow(client, staff_success, draft):
    client.force_login(staff_success)
    response = client.post(url("submit", draft.pk))
    assert response.status_code == 302
    assert response["Location"] == reverse("wagtailadmin_home")
    assert FactorDataset.objects.get(pk=draft.pk).status == DatasetStatus.DRAFT
