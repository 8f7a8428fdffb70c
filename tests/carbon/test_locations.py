"""Known locations, great-circle and reference distances (ISO 14083 / GLEC), the air distance
basis, and the declared distance checked against the great circle.

Great-circle figures were computed apart from the code, by the spherical law of cosines on the
same coordinates and the mean Earth radius 6,371.0088 km: Shanghai CNSGH (3114N 12129E) -
Hamburg DEHAM (5331N 00956E) 8,527.9 km; PVG (31.1434, 121.805) - FRA (50.0264, 8.54313)
8,859.8 km; Rotterdam NLRTM (5155N 00430E) - Hamburg 406.8 km.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from carbon import api as carbon_api  # noqa: F401 - registers the carbon scopes and routes
from carbon.footprint.actions import start_import
from carbon.footprint.calculation import calculate_order
from carbon.footprint.legs import LegData, validate_leg
from carbon.footprint.locations import (
    air_emission_distance_km,
    parse_locode_coordinates,
    reference_distance_km,
    resolve_location,
)
from carbon.footprint.model import FootprintInput, GridFactors, LegInput, compute
from carbon.models import ImportStatus, Leg, Order
from portal.models import Role
from tests.api_client import api_error, token_headers
from tests.carbon.factories import order_with_legs, published_dataset
from tests.carbon.test_footprint_model import AIR_RF
from tests.carbon.test_import import csv_text
from tests.factories import MembershipFactory, UserFactory

D = Decimal


# --- known locations


def test_un_locode_coordinates_are_read_as_decimal_degrees():
    assert parse_locode_coordinates("3114N 12129E") == (D("31.233333"), D("121.483333"))
    assert parse_locode_coordinates("3403N 11815W") == (D("34.050000"), D("-118.250000"))
    assert parse_locode_coordinates("0611S 10650E") == (D("-6.183333"), D("106.833333"))
    with pytest.raises(ValueError, match="not UN/LOCODE coordinates"):
        parse_locode_coordinates("31.2N 121.5E")


@pytest.mark.parametrize(
    ("text", "mode", "code"),
    [
        ("CNSHA", "sea", "CNSGH"),  # the carriers' code for the port of Shanghai
        ("CN SGH", "sea", "CNSGH"),
        ("Shanghai Yangshan port", "sea", "CNSGH"),
        ("port of hamburg", "sea", "DEHAM"),
        ("DEHAM", "road", "DEHAM"),
        ("PVG", "air", "PVG"),
        ("EDDF", "air", "FRA"),  # ICAO
        ("Frankfurt airport", "air", "FRA"),
        ("HAM", "air", "HAM"),
        ("Duisburg DIT terminal", "rail", "DEDUI"),
    ],
)
def test_a_code_or_a_known_name_resolves(text, mode, code):
    location = resolve_location(text, mode)
    assert location is not None
    assert location.code == code


@pytest.mark.parametrize(
    ("text", "mode"),
    [
        ("Suzhou plant", "road"),  # a customer's site: never guessed
        ("Werk Hamburg", "road"),
        ("HAM", "sea"),  # Hamburg airport is no port
        ("DEHAM", "air"),  # a port is no airport
        ("CNNBG", "rail"),  # Ningbo Pt has no rail terminal function
        ("", "sea"),
        ("XXZZZ", "sea"),
    ],
)
def test_an_unknown_or_wrong_kind_of_place_is_none(text, mode):
    assert resolve_location(text, mode) is None


# --- reference distance (worked examples)


def test_shanghai_to_hamburg_by_sea_is_the_declared_route_not_the_great_circle():
    # given the demo sea leg: 19,800 km declared between Shanghai and Hamburg
    reference, basis = reference_distance_km(
        "sea", "Shanghai Yangshan port", "Port of Hamburg", D(19800)
    )
    # then the great circle (8,528 km, across Eurasia) is shown but not used: no ship sails it,
    # so the reference is the declared route
    assert reference == D(19800)
    assert basis["basis"] == "sea_declared"
    assert (basis["great_circle_km"], basis["reference_km"]) == ("8528", "19800")
    assert (basis["origin"]["code"], basis["destination"]["code"]) == ("CNSGH", "DEHAM")
    assert basis["origin"]["source"] == "UN/LOCODE 2024-1"


def test_a_longer_declared_road_route_earns_no_longer_reference():
    # Rotterdam - Hamburg by road: 407 km x 1.05 = 427.35 km whatever is declared above it
    short, _ = reference_distance_km("road", "NLRTM", "DEHAM", D(500))
    long, _ = reference_distance_km("road", "NLRTM", "DEHAM", D(1200))
    assert short == long == D("427.35")


def test_the_declared_distance_caps_the_reference():
    # Rotterdam - Hamburg by road: 407 km x 1.05 = 427.35 km, declared 420 km
    reference, basis = reference_distance_km("road", "NLRTM", "DEHAM", D(420))
    assert reference == D(420)
    assert (basis["basis"], basis["adjusted_km"]) == ("declared_cap", "427.35")


def test_pvg_to_fra_by_air_is_the_great_circle_plus_95_km():
    reference, basis = reference_distance_km("air", "PVG", "FRA", D(9200))
    assert reference == D(8955)  # 8,860 + 95
    assert (basis["great_circle_km"], basis["adjustment"]) == ("8860", "+95 km")
    # the demo's 8,900 km declared caps it
    capped, _ = reference_distance_km(
        "air", "Shanghai Pudong airport", "Frankfurt airport", D(8900)
    )
    assert capped == D(8900)


def test_an_unknown_end_leaves_no_reference_and_says_so():
    reference, basis = reference_distance_km("rail", "Suzhou plant", "DEDUI", D(10800))
    assert reference is None
    assert basis == {"declared_km": "10800", "basis": "declared", "unknown": ["origin"]}


# --- air distance basis: the DESNZ uplift counted once


def test_air_between_known_airports_uses_great_circle_plus_95_without_the_desnz_uplift():
    km, basis = air_emission_distance_km("PVG", "FRA", D(9500))
    assert km == D(8955)
    assert (basis["basis"], basis["factor_uplift_removed"]) == ("great_circle_plus_95", "1.08")
    # 1 t over 8,955 km at 1.0 / 0.2 kg per t·km, less the 8% uplift: 8,291.666... / 1,658.33...
    (fp,) = compute(
        [
            FootprintInput(
                legs=[LegInput("air.long_haul", D(1), D(9500), origin="PVG", destination="FRA")]
            )
        ],  # fmt: skip
        [[AIR_RF]],
        [GridFactors()],
    )
    assert fp.tkm == D(8955)
    assert fp.ttw.quantize(D("0.000001")) == D("8291.666667")
    assert fp.wtt.quantize(D("0.000001")) == D("1658.333333")
    assert fp.legs_json()[0]["distance"]["emission"]["km"] == "8955"


def test_air_with_a_declared_flown_distance_takes_the_desnz_uplift_off_once():
    km, basis = air_emission_distance_km("Somewhere", "FRA", D(1080))
    assert (km, basis["basis"]) == (D(1080), "declared_flown")
    # 1 t x 1,080 km flown at 1.0 kg per t·km / 1.08 = 1,000 kg
    (fp,) = compute(
        [FootprintInput(legs=[LegInput("air.long_haul", D(1), D(1080), origin="Somewhere")])],
        [[AIR_RF]],
        [GridFactors()],
    )
    assert (fp.tkm, fp.ttw, fp.wtt) == (D(1080), D(1000), D(200))


# --- plausibility against the great circle


def _leg(mode_category, origin, destination, km, mass="1"):
    return LegData(mode_category, D(mass), D(km), origin=origin, destination=destination)


def test_a_declared_distance_below_the_great_circle_is_refused_with_the_figures():
    problems = validate_leg(_leg("sea.container.average", "CNSHA", "DEHAM", 5000))
    assert problems == [
        (
            "distance_km",
            "5,000 km is shorter than the great-circle distance between CNSGH and DEHAM "
            "(8,528 km): at least 8,448 km for this sea leg",
        )
    ]


def test_a_road_route_over_three_times_the_great_circle_is_refused():
    problems = validate_leg(_leg("road.hgv.average_laden", "Port of Rotterdam", "DEHAM", 2000))
    assert problems == [
        (
            "distance_km",
            "2,000 km is more than 3 times the great-circle distance between NLRTM and DEHAM "
            "(407 km) plus 100 km: at most 1,321 km for this road leg",
        )
    ]


@pytest.mark.parametrize(
    ("category", "origin", "destination", "km"),
    [
        ("sea.container.average", "Shanghai Yangshan port", "Port of Hamburg", 19800),  # Suez
        ("sea.container.average", "CNSHA", "NLRTM", 26000),  # round the Cape
        ("air.international", "Shanghai Pudong airport", "Frankfurt airport", 8900),
        ("road.hgv.rigid", "Port of Hamburg", "Werk Hamburg", 25),  # an end unknown
        ("rail.freight", "Suzhou plant", "Duisburg DIT terminal", 10800),
    ],
)
def test_the_demo_lanes_pass(category, origin, destination, km):
    assert validate_leg(_leg(category, origin, destination, km)) == []


UPSERT = "/api/v1/organisations/acme/orders/PO-1"


@pytest.fixture
def headers(org_a):
    published_dataset()
    return token_headers(org_a, ["carbon:read", "carbon:write"])


@pytest.mark.django_db
def test_the_api_refuses_a_sea_leg_shorter_than_the_great_circle(client, headers):
    body = {
        "order_date": "2025-03-14",
        "status": "shipped",
        "shipments": [
            {
                "reference": "S1",
                "legs": [
                    {
                        "category": "sea.container.average",
                        "origin": "CNSHA",
                        "destination": "DEHAM",
                        "distance": "5,000 km",
                        "mass": "2 t",
                    }
                ],
            }
        ],
    }
    response = client.put(UPSERT, body, content_type="application/json", headers=headers)
    message = api_error(response, 422, "invalid_order", "shipments[0].legs[0].distance")
    assert "shorter than the great-circle distance between CNSGH and DEHAM (8,528 km)" in message
    assert (Order.objects.count(), Leg.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_the_csv_import_names_the_row_of_a_flight_shorter_than_the_great_circle(
    org_a, member_a, headers
):
    rows = [
        ["PO-1", "2025-03-03", "", "shipped", "", "", "", "S1", "1", "air.long_haul", "PVG",
         "FRA", "6000 km", "1 t", "", "", "", ""],
    ]  # fmt: skip
    job = start_import(org_a, SimpleUploadedFile("o.csv", csv_text(rows).encode()), by=member_a)
    assert job.status == ImportStatus.FAILED
    assert [(e["row"], e["column"], e["reason"]) for e in job.error_report] == [
        (
            2,
            "distance",
            "6,000 km is shorter than the great-circle distance between PVG and FRA "
            "(8,860 km): at least 8,780 km for this air leg",
        )
    ]
    assert (Order.objects.count(), Leg.objects.count()) == (0, 0)


# --- shown on the order page and in the API


@pytest.fixture
def demo_order(org_a):
    published_dataset()
    return order_with_legs(
        org_a,
        [
            {
                "category": "road.hgv.average_laden",
                "origin": "Suzhou plant",
                "destination": "Shanghai Yangshan port",
                "distance_km": D(130),
                "mass_t": D(3),
            },
            {
                "category": "sea.container.average",
                "origin": "Shanghai Yangshan port",
                "destination": "Port of Hamburg",
                "distance_km": D(19800),
                "mass_t": D(3),
            },
            {
                "category": "air.long_haul",
                "origin": "PVG",
                "destination": "FRA",
                "distance_km": D(8900),
                "mass_t": D("0.08"),
            },
        ],  # fmt: skip
    )


@pytest.mark.django_db
def test_the_order_page_shows_locations_great_circle_and_reference(
    client, member_a, demo_order, django_assert_max_num_queries
):
    client.force_login(member_a)
    url = reverse("carbon:order_detail", kwargs={"org_slug": "acme", "order_id": demo_order.pk})
    with django_assert_max_num_queries(40):
        page = client.get(url).content.decode()
    assert "Location not known: points use the declared distance" in page  # the road leg
    assert "CNSGH → DEHAM: great circle 8,528 km" in page
    assert "reference: the declared sea route (a great circle between ports crosses land)" in page
    assert "PVG → FRA: great circle 8,860 km" in page
    assert "capped by the declared distance" in page
    assert "footprint: 8,955 km (great circle + 95 km)" in page


@pytest.mark.django_db
def test_the_order_page_in_chinese(client, org_a, demo_order):
    li = UserFactory(email="li@acme.example", preferred_language="zh-hans")
    MembershipFactory(user=li, organisation=org_a, role=Role.MEMBER)
    client.force_login(li)
    url = reverse("carbon:order_detail", kwargs={"org_slug": "acme", "order_id": demo_order.pk})
    page = client.get(url, headers={"Accept-Language": "zh-hans"}).content.decode()
    assert "大圆距离 8,528 公里" in page
    assert "地点未知：积分按申报距离计算" in page


@pytest.mark.django_db
def test_the_api_detail_and_footprint_carry_the_distances(client, org_a, demo_order):
    headers = token_headers(org_a, ["carbon:read"])
    calculate_order(demo_order)
    detail = client.get(f"/api/v1/orders/{demo_order.pk}", headers=headers).json()
    road, sea, air = detail["shipments"][0]["legs"]
    assert road["distance"]["basis"] == "declared"
    assert road["distance"]["reference_km"] is None
    assert (sea["distance"]["great_circle_km"], sea["distance"]["reference_km"]) == (
        "8528",
        "19800",
    )
    assert air["distance"]["emission"]["basis"] == "great_circle_plus_95"
    footprint = client.get(f"/api/v1/orders/{demo_order.pk}/footprint", headers=headers).json()
    assert [leg["distance"]["reference_km"] for leg in footprint["legs"]] == [
        None,
        "19800",
        "8900",
    ]
