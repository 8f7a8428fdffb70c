"""The beta wing's event types in the portal's catalogue (portal.event_catalogue). Imported from
BetaProgramConfig.ready().

Ids only: a programme may be confidential, and the CRM's readers are outside its NDA."""

from __future__ import annotations

from beta_program.programmes.feedback_models import FeedbackKind, Severity
from beta_program.programmes.models import WITHDRAWABLE, ApplicationStatus
from portal.event_catalogue import BOOLEAN, choice, identifier, integer, register

OWNER = "beta_program"
_APPLICATION = {
    "application_id": identifier("application"),
    "programme_id": identifier("programme"),
    "applicant_id": identifier("applicant (portal user)"),
}

register(
    "greenloop.beta.application_submitted",
    version=1,
    subject=r"beta/applications/\d+",
    description="A customer applied to a beta programme (accepted at once while places are free).",
    owner=OWNER,
    properties={**_APPLICATION, "status": choice(ApplicationStatus.values)},
)
for _what, _description in (
    ("accepted", "An application was accepted: the applicant's organisation takes part."),
    ("rejected", "Product staff rejected an application (the reason stays in the portal)."),
):
    register(
        f"greenloop.beta.application_{_what}",
        version=1,
        subject=r"beta/applications/\d+",
        description=_description,
        owner=OWNER,
        properties=_APPLICATION,
    )
register(
    "greenloop.beta.application_withdrawn",
    version=1,
    subject=r"beta/applications/\d+",
    description=(
        "The applicant or their organisation's admin withdrew an open application or left the "
        "programme (`was` accepted: a place is free again)."
    ),
    owner=OWNER,
    properties={
        **_APPLICATION,
        "withdrawn_by": identifier("person who withdrew it (portal user)"),
        "was": choice([s.value for s in WITHDRAWABLE]),
    },
)
register(
    "greenloop.beta.programme_graduated",
    version=2,
    subject=r"beta/programmes/\d+",
    description=(
        "A programme graduated: its product is generally available. `grants` lists the points "
        "product staff grant each participating organisation for its part (empty: none); a "
        "points plugin may credit them."
    ),
    owner=OWNER,
    properties={
        "programme_id": identifier("programme"),
        "graduated_by": identifier("staff member who graduated it (portal user)"),
        "grants": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "organisation_id": identifier("organisation"),
                    "points": integer("points granted", minimum=1),
                },
                "required": ["organisation_id", "points"],
                "additionalProperties": False,
            },
        },
    },
)
register(
    "greenloop.beta.cohort_created",
    version=2,
    subject=r"beta/cohorts/\d+",
    description=(
        "Product staff created a cohort (a Django group the community can restrict to). "
        "`create_space`: staff asked for a private discussion space for the cohort's group; "
        "a community plugin may create it."
    ),
    owner=OWNER,
    properties={
        "cohort_id": identifier("cohort"),
        "programme_id": identifier("programme"),
        "group_id": identifier("Django group"),
        "created_by": identifier("staff member who created it (portal user)"),
        "create_space": BOOLEAN,
    },
)
register(
    "greenloop.beta.participant_reminded",
    version=1,
    subject=r"beta/reminders/\d+",
    description=(
        "A participant who had been silent in a running phase was reminded (by e-mail) to try "
        "the current build and give feedback; once per phase and person."
    ),
    owner=OWNER,
    properties={
        "reminder_id": identifier("reminder"),
        "programme_id": identifier("programme"),
        "phase_id": identifier("phase"),
        "user_id": identifier("person reminded"),
    },
)
register(
    "greenloop.beta.build_downloaded",
    version=1,
    subject=r"beta/builds/\d+",
    description="A participant downloaded a pre-release build.",
    owner=OWNER,
    properties={
        "download_id": identifier("download record"),
        "build_id": identifier("build"),
        "programme_id": identifier("programme"),
        "user_id": identifier("person who downloaded it"),
    },
)
register(
    "greenloop.beta.nda_accepted",
    version=1,
    subject=r"beta/nda-acceptances/\d+",
    description="A participant accepted a version of a programme's NDA.",
    owner=OWNER,
    properties={
        "acceptance_id": identifier("acceptance"),
        "programme_id": identifier("programme"),
        "nda_version": integer("the NDA's version number", minimum=1),
        "user_id": identifier("person who accepted"),
    },
)
register(
    "greenloop.beta.feedback_submitted",
    version=1,
    subject=r"beta/feedback/\d+",
    description="A participant filed a bug report or feature feedback on a build.",
    owner=OWNER,
    properties={
        "feedback_id": identifier("report"),
        "programme_id": identifier("programme"),
        "build_id": identifier("build"),
        "kind": choice(FeedbackKind.values),
        "severity": {"type": ["string", "null"], "enum": [*Severity.values, None]},
    },
)
register(
    "greenloop.beta.bug_confirmed",
    version=1,
    subject=r"beta/feedback/\d+",
    description="Product staff confirmed a bug report for the first time.",
    owner=OWNER,
    properties={
        "feedback_id": identifier("report"),
        "programme_id": identifier("programme"),
        "build_id": identifier("build"),
        "severity": choice(Severity.values),
    },
)
register(
    "greenloop.beta.announcement_published",
    version=1,
    subject=r"beta/announcements/\d+",
    description=(
        "Product staff published an announcement to a programme's cohorts (`cohort_ids`; empty: "
        "every participant). Its title and text stay in the portal."
    ),
    owner=OWNER,
    properties={
        "announcement_id": identifier("announcement"),
        "programme_id": identifier("programme"),
        "published_by": identifier("staff member who published it (portal user)"),
        "cohort_ids": {"type": "array", "items": identifier("cohort")},
    },
)
