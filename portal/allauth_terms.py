"""allauth strings that portal's catalogue translates again, so allauth's pages use our terms.

allauth's zh_Hans catalogue mixes 双因素身份认证 / 两步验证, Email / 电子邮件 and
帐户 / 账户 / 帐号; the portal says 双重身份验证, 电子邮件 and 账号 throughout.
Django consults LOCALE_PATHS before any app's catalogue, so an entry in portal/locale wins. This
module is never imported: `makemessages` reads it so that these msgids stay in portal's catalogue.
Each msgid must be exactly allauth's (tests/portal/test_translations.py checks it).
"""

from django.utils.translation import gettext_noop as _

ALLAUTH_MSGIDS = (
    _("The password reset token was invalid."),
    _("You cannot add an email address to an account protected by two-factor authentication."),
    _("You cannot deactivate two-factor authentication."),
    _("You cannot generate recovery codes without having two-factor authentication enabled."),
    _("You cannot activate two-factor authentication until you have verified your email address."),
    _("TOTP Authenticator"),
    _("Authenticator code"),
    _("Please reauthenticate to safeguard your account."),
    _("Email Addresses"),
    _("The following email addresses are associated with your account:"),
    _("Re-send Verification"),
    _("Add Email Address"),
    _("Add Email"),
    _("Do you really want to remove the selected email address?"),
    _(
        "You are receiving this email because you or someone else tried to signup "
        "for an\n"
        "account using email address:\n"
        "\n"
        "%(email)s\n"
        "\n"
        "However, an account using that email address already exists.  In case "
        "you have\n"
        "forgotten about this, please use the password forgotten procedure to recover\n"
        "your account:\n"
        "\n"
        "%(password_reset_url)s"
    ),
    _("Account Already Exists"),
    _("You are receiving this mail because the following change was made to your account:"),
    _(
        "If you do not recognize this change then please take proper security precautions "
        "immediately. The change to your account originates from:\n"
        "\n"
        "- IP address: %(ip)s\n"
        "- Browser: %(user_agent)s\n"
        "- Date: %(timestamp)s"
    ),
    _("Email Changed"),
    _("Your email has been confirmed."),
    _("Email Confirmation"),
    _(
        "You're receiving this email because user %(user_display)s has given your "
        "email address to register an account on %(site_domain)s."
    ),
    _("Please Confirm Your Email Address"),
    _("Email address %(deleted_email)s has been removed from your account."),
    _("Email Removed"),
    _(
        "You're receiving this email because you or someone else has requested "
        "a password reset for your user account.\n"
        "It can be safely ignored if you did not request a password reset. Click "
        "the link below to reset your password."
    ),
    _(
        "You are receiving this email because you, or someone else, tried to access "
        "an account with email %(email)s. However, we do not have any record of "
        "such an account in our database."
    ),
    _("If it was you, you can sign up for an account using the link below."),
    _("Email Address"),
    _("Current email"),
    _("Change Email"),
    _("Confirm Email Address"),
    _("Unable to confirm %(email)s because it is already confirmed by a different account."),
    _("You cannot remove your primary email address (%(email)s)."),
    _("You have confirmed %(email)s."),
    _("Removed email address %(email)s."),
    _("You have signed out."),
    _("Primary email address set."),
    # the primary address's badge, as its button "Make Primary" (设置为首选); without this entry
    # the idea boards' "Primary" (a merged idea's, 主创意) answered for it
    _("Primary"),
    _("Bad Token"),
    _("Verify Your Email Address"),
    _("Two-Factor Authentication"),
    _(
        "Your account is protected by two-factor authentication. Please enter an "
        "authenticator code:"
    ),
    _("A new set of Two-Factor Authentication recovery codes has been generated."),
    _("You are about to generate a new set of recovery codes for your account."),
    _(
        "To protect your account with two-factor authentication, scan the QR code "
        "below with your authenticator app. Then, input the verification code generated "
        "by the app below."
    ),
    _(
        "You are about to create a passkey for your account. As you can add additional "
        "keys later on, you can use a descriptive name to tell the keys apart."
    ),
    _("Sign Out"),
    _("Are you sure you want to sign out?"),
)
