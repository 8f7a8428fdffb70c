"""Beta-programme permission rules, registered with the portal's `has_perm`."""

from __future__ import annotations

from beta_program.programmes.access import can_manage
from beta_program.programmes.models import Application
from portal.permissions import register_owner, register_rule

MANAGE = "beta.manage"

register_rule(MANAGE, lambda user, obj: can_manage(user))
register_owner(Application, lambda application: application.organisation)
