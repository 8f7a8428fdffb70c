"""Row-level security on the portal's organisation-owned tables (see portal/tenancy.py).

Not here, on purpose (README, Security): organisations (names appear beside community authors of
every organisation), memberships (the community decides who may see a space from other people's
memberships), invitations (found by their secret key before the invitee belongs to the
organisation), users, and the outbox (written for whichever organisation an event concerns,
read by the delivery worker only).
"""

from django.db import migrations

from portal.tenancy import row_security_operation


class Migration(migrations.Migration):
    dependencies = [("portal", "0004_append_only_guards")]

    operations = [
        row_security_operation(
            {"portal_site": None, "portal_apitoken": None, "portal_auditevent": None}
        )
    ]
