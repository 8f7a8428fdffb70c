"""Demo organisations and people. Shared by `seed_demo` and the tests, so the README's logins
are the ones the tests sign in with."""

from __future__ import annotations

from dataclasses import dataclass

from portal.models import Role, Tier
from portal.staff_roles import StaffRole

DEMO_PASSWORD = "greenloop-demo"  # noqa: S105 - published in the README on purpose


@dataclass(frozen=True)
class DemoOrg:
    slug: str
    name: str
    country: str
    tier: str
    crm_external_id: str
    sites: tuple[tuple[str, str, str], ...]  # (name, country, grid region)


@dataclass(frozen=True)
class DemoPerson:
    email: str
    first_name: str
    last_name: str
    memberships: tuple[tuple[str, str], ...] = ()  # (org slug, role)
    staff_role: str | None = None
    superuser: bool = False
    language: str = ""


ORGS = (
    DemoOrg(
        slug="huadong-pv",
        name="华东光伏科技有限公司",
        country="CN",
        tier=Tier.GOLD,
        crm_external_id="CRM-ACC-10017",
        sites=(("苏州工厂", "CN", "CN-East"), ("合肥工厂", "CN", "CN-East")),
    ),
    DemoOrg(
        slug="nordwind",
        name="Nordwind Energietechnik GmbH",
        country="DE",
        tier=Tier.SILVER,
        crm_external_id="CRM-ACC-20493",
        sites=(("Werk Hamburg", "DE", "DE"),),
    ),
)

PEOPLE = (
    DemoPerson(
        "li.wei@huadong.example", "Wei", "Li", (("huadong-pv", Role.ADMIN),), language="zh-hans"
    ),
    DemoPerson(
        "zhang.min@huadong.example",
        "Min",
        "Zhang",
        (("huadong-pv", Role.MEMBER),),
        language="zh-hans",
    ),
    DemoPerson(
        "chen.jing@huadong.example",
        "Jing",
        "Chen",
        (("huadong-pv", Role.VIEWER),),
        language="zh-hans",
    ),
    DemoPerson("anna.schmidt@nordwind.example", "Anna", "Schmidt", (("nordwind", Role.ADMIN),)),
    DemoPerson("jonas.weber@nordwind.example", "Jonas", "Weber", (("nordwind", Role.MEMBER),)),
    DemoPerson("lena.fischer@nordwind.example", "Lena", "Fischer", (("nordwind", Role.VIEWER),)),
    DemoPerson(
        "consultant@energyaudit.example",
        "Maria",
        "Rossi",
        (("huadong-pv", Role.MEMBER), ("nordwind", Role.MEMBER)),
    ),
    DemoPerson(
        "sustainability@greenloop.example", "Sara", "Green", staff_role=StaffRole.SUSTAINABILITY
    ),
    DemoPerson("product@greenloop.example", "Paul", "Product", staff_role=StaffRole.PRODUCT),
    DemoPerson("moderator@greenloop.example", "Mo", "Derator", staff_role=StaffRole.MODERATOR),
    DemoPerson(
        "success@greenloop.example", "Cass", "Success", staff_role=StaffRole.CUSTOMER_SUCCESS
    ),
    DemoPerson(
        "integration@greenloop.example", "Ian", "Tegration", staff_role=StaffRole.INTEGRATION_ADMIN
    ),
    DemoPerson("admin@greenloop.example", "Ada", "Admin", superuser=True),
)
