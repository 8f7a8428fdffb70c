"""Row-level security on the portal's organisation-owned tables (see portal/tenancy.py).

Not here, on purpose (README, Security): organisations (names appear beside community authors of
every organisation), memberships (the community decides who may see a space from other people's
memberships), invitations and API tokens (found by their secret key or hash before any
organisation is known), users, and the outbox (written for whichever organisation an event
concerns, read by staff and the delivery worker only).
"""

from django.db import migrations

from portal.tenancy import row_security_operation


class Migration(migrations.Migration):
    dependencies = [("portal", "0004_append_only_guards"), ("portal", "0004_user_erased_at")]

    operations = [
        row_security_operation(
            {"portal_site": None, "portal_auditevent": None}
        )
    ]
