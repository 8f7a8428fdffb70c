"""Who may see what of a beta programme: permission-checked loaders and the checks views, the
API and the landing pages share. Actions write; this module only reads."""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404
from wagtail import hooks

from beta_program.programmes.models import (
    OPEN_APPLICATION_STATUSES,
    Application,
    ApplicationStatus,
    Confidentiality,
    Programme,
    ProgrammeStatus,
    json_list_contains,
)
from portal.models import Organisation, Role
from portal.permissions import in_staff_role, is_vendor_staff, role_in
from portal.staff_roles import StaffRole

# Plugins that know what an organisation bought answer this hook with its SKUs (carbon reads
# its order lines); beta programmes never import them.
OWNED_SKUS_HOOK = "greenloop_organisation_skus"


def is_beta_staff(user) -> bool:
    """Product staff run programmes; account-facing staff and superusers may look at them too.
    Both need their second factor (the portal's staff checks demand it)."""
    return bool(
        user
        and user.is_authenticated
        and (in_staff_role(user, StaffRole.PRODUCT) or is_vendor_staff(user))
    )


def can_manage(user) -> bool:
    """Create programmes, change their status and decide applications: Product staff."""
    return bool(user and user.is_authenticated and in_staff_role(user, StaffRole.PRODUCT))


def owned_skus(organisation: Organisation) -> set[str]:
    """The SKUs the organisation has ordered, from every plugin that knows (one query each)."""
    skus: set[str] = set()
    for provider in hooks.get_hooks(OWNED_SKUS_HOOK):
        skus.update(provider(organisation))
    return skus


def sku_rule(organisation: Organisation, db: str = "default") -> Q:
    """Programmes whose SKU rule the organisation meets (no rule, or one SKU it owns)."""
    rule = Q(required_skus=[])
    for sku in sorted(owned_skus(organisation)):
        rule |= json_list_contains("required_skus", sku, db)
    return rule


def programmes_for(user, organisation: Organisation | None):
    """Every programme the user may see while acting for `organisation` (tier, country and SKU
    rules for recruiting ones; the organisation's own applications for the rest). `user` None:
    the organisation's API token, which sees what its people see, without staff power."""
    if user is None:
        visible = Programme.objects.for_organisation(organisation)
    else:
        visible = Programme.objects.visible_to(user, organisation)
        if is_beta_staff(user):
            return visible
    if organisation is None:
        return visible
    applications = Application.objects.filter(organisation=organisation).exclude(
        status=ApplicationStatus.WITHDRAWN
    )
    visible = visible.filter(sku_rule(organisation) | Q(pk__in=applications.values("programme_id")))
    if user is None or role_in(user, organisation) == Role.ADMIN:
        return visible
    # Once recruiting ends, a programme under NDA is known only to the people who applied (and
    # the organisation's admins, who answer for its agreements): a colleague without a place
    # has no reason to learn its name.
    past_recruiting = Q(confidentiality=Confidentiality.NDA) & ~Q(status=ProgrammeStatus.RECRUITING)
    own = Q(pk__in=applications.filter(applicant=user).values("programme_id"))
    return visible.filter(~past_recruiting | own)


def my_and_open_programmes(user, organisation: Organisation) -> tuple[list, list]:
    """The programmes of the Beta page, as (mine, open): those the organisation holds an open or
    accepted application to, and the recruiting ones it may still apply to, by name. Each
    carries `application`, the organisation's latest application (or None). Two queries plus
    the SKU hook. The page and the page blocks both list through here."""
    programmes = list(programmes_for(user, organisation).order_by("name"))
    latest: dict[int, Application] = {}
    for application in Application.objects.filter(
        organisation=organisation, programme_id__in=[p.pk for p in programmes]
    ).order_by("programme_id", "-submitted_at", "-id"):
        latest.setdefault(application.programme_id, application)
    mine, open_ = [], []
    for programme in programmes:
        programme.application = latest.get(programme.pk)
        has_place = programme.application is not None and programme.application.status in (
            OPEN_APPLICATION_STATUSES
        )
        (mine if has_place else open_).append(programme)
    # Staff see every programme; the "open" list keeps to recruiting ones for them too.
    return mine, [p for p in open_ if p.status == ProgrammeStatus.RECRUITING]


def programme_or_404(user, organisation: Organisation | None, slug: str) -> Programme:
    programme = programmes_for(user, organisation).filter(slug=slug).first()
    if programme is None:
        raise Http404("No such programme.")
    return programme


def is_participant(user, programme: Programme, organisation: Organisation | None = None) -> bool:
    """The person holds an accepted place in the programme (for `organisation` if given)."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    accepted = Application.objects.filter(
        programme=programme, applicant=user, status=ApplicationStatus.ACCEPTED
    )
    if organisation is not None:
        accepted = accepted.filter(organisation=organisation)
    return accepted.filter(organisation__is_active=True).exists()


def current_nda(programme: Programme):
    """The newest published NDA version of the programme, or None."""
    from beta_program.programmes.models import NdaVersion

    return NdaVersion.objects.published().filter(programme=programme).order_by("-version").first()


def has_accepted_current_nda(user, programme: Programme) -> bool:
    """The person accepted the programme's newest published NDA version. A programme under NDA
    without a published version admits nobody (fail closed); a new version needs a new
    acceptance, so publishing one blocks everyone until they accept it."""
    from beta_program.programmes.models import NdaAcceptance

    nda = current_nda(programme)
    if nda is None or not (user and user.is_authenticated):
        return False
    return NdaAcceptance.objects.filter(nda=nda, user=user).exists()


def may_see_confidential(user, programme: Programme) -> bool:
    """What to test, phases, builds and other programme content: staff, and participants; under
    NDA only participants who accepted its current version."""
    if is_beta_staff(user):
        return True
    if not is_participant(user, programme):
        return False
    return not programme.is_confidential or has_accepted_current_nda(user, programme)


def may_apply_role(user, organisation: Organisation, programme: Programme) -> bool:
    from portal.models import Role

    role = role_in(user, organisation)
    return role is not None and Role.rank(role) >= Role.rank(programme.applicant_min_role)


def visible_anywhere(user, programme: Programme) -> bool:
    """May the user see the programme acting for any organisation they belong to? (Pages
    outside /o/<slug>/, such as the programme's landing page.)"""
    if is_beta_staff(user):
        return True
    if not (user and user.is_authenticated and user.is_active):
        return False
    organisations = Organisation.objects.for_member(user)
    return any(
        programmes_for(user, organisation).filter(pk=programme.pk).exists()
        for organisation in organisations
    )


def accepted_nda_version(user, programme: Programme) -> int | None:
    """The newest NDA version of the programme the person accepted, or None."""
    from beta_program.programmes.models import NdaAcceptance

    return (
        NdaAcceptance.objects.filter(programme=programme, user=user)
        .order_by("-version")
        .values_list("version", flat=True)
        .first()
    )


def builds_for(user, programme: Programme, organisation: Organisation | None = None):
    """The builds of the programme the person may see (expired ones included, so the page can
    say they expired): staff see all; a participant who may see the confidential content sees
    builds for every participant and those of the cohorts they are in."""
    from beta_program.programmes.models import Build

    return released_to(user, programme, organisation, Build.objects.filter(programme=programme))


def released_to(user, programme: Programme, organisation: Organisation | None, rows):
    """`rows` of the programme released to the person (builds, announcements: anything with
    `cohorts`): staff see all; a participant who may see the confidential content (under NDA:
    who accepted its current version) sees those for every participant (no cohort chosen) and
    those of the cohorts they are in; anyone else nothing."""
    if is_beta_staff(user):
        return rows
    if not may_see_confidential(user, programme) or not is_participant(
        user, programme, organisation
    ):
        return rows.none()
    in_cohort = Q(cohorts__group__user=user)
    return rows.filter(Q(cohorts__isnull=True) | in_cohort).distinct()


def announcements_for(user, programme: Programme, organisation: Organisation | None = None):
    """The programme's published announcements the person may read, newest first (the same
    rule as builds: `released_to`)."""
    from beta_program.programmes.announcement_models import Announcement, AnnouncementStatus

    published = Announcement.objects.filter(
        programme=programme, status=AnnouncementStatus.PUBLISHED
    ).order_by("-published_at", "-id")
    return released_to(user, programme, organisation, published)


def announcement_or_404(user, organisation: Organisation, announcement_id: int):
    """A published announcement of a programme the person sees while acting for `organisation`,
    released to them; 404 otherwise (another organisation's, another cohort's, before the NDA
    is accepted), so an id tells nothing about what it announces."""
    from beta_program.programmes.announcement_models import Announcement

    found = (
        Announcement.objects.filter(
            pk=announcement_id, programme__in=programmes_for(user, organisation)
        )
        .select_related("programme")
        .first()
    )
    if found is None or not (
        announcements_for(user, found.programme, organisation).filter(pk=found.pk).exists()
    ):
        raise Http404("No such announcement.")
    return found


def download_refusal(user, build) -> str | None:
    """Why the person may not download this build now (expired, or an NDA version it needs that
    they have not accepted), or None. Visibility is checked before (404)."""
    from django.utils.formats import date_format
    from django.utils.translation import gettext as _

    if build.is_expired:
        return _(
            "This build expired on %(date)s and can no longer be downloaded. Use the current "
            "build of the programme."
        ) % {"date": date_format(build.expires_on)}
    if build.min_nda_version and not is_beta_staff(user):
        accepted = accepted_nda_version(user, build.programme) or 0
        if accepted < build.min_nda_version:
            return _("This build needs version %(v)s of the programme's agreement.") % {
                "v": build.min_nda_version
            }
    return None
