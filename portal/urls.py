from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path, re_path
from django.utils.module_loading import autodiscover_modules
from django.views.generic import RedirectView
from django.views.i18n import JavaScriptCatalog
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from portal import views, views_notifications, views_profile

# Plugins attach their API routers in their own api.py; import them before building the URLs.
autodiscover_modules("api")
from portal.api import api, unknown_path  # noqa: E402
from portal.api_notifications import router as notifications_router  # noqa: E402
from portal.crm import api as crm_api  # noqa: E402

api.add_router("/crm/", crm_api.router)
api.add_router("/", notifications_router)

# allauth answers a refusal by one of its rate limits with this view (audited).
handler429 = views.rate_limited

app_urls = (
    [
        path("dashboard/", views.dashboard_redirect, name="dashboard"),
        path("switch/", views.switch_organisation, name="switch_organisation"),
        path("invitations/<str:key>/", views.invitation, name="invitation"),
        path("o/<slug:org_slug>/", views.org_dashboard, name="org_dashboard"),
        path("o/<slug:org_slug>/members/", views.members, name="members"),
        path("o/<slug:org_slug>/members/invite/", views.invite, name="invite"),
        path("o/<slug:org_slug>/members/<int:pk>/role/", views.change_role, name="change_role"),
        path(
            "o/<slug:org_slug>/members/<int:pk>/remove/",
            views.remove_member,
            name="remove_member",
        ),
        path(
            "o/<slug:org_slug>/invitations/<int:pk>/revoke/",
            views.revoke_invitation,
            name="revoke_invitation",
        ),
        path("o/<slug:org_slug>/tokens/", views.tokens, name="tokens"),
        path("o/<slug:org_slug>/tokens/issue/", views.issue_token, name="issue_token"),
        path("o/<slug:org_slug>/tokens/<int:pk>/revoke/", views.revoke_token, name="revoke_token"),
        path("o/<slug:org_slug>/settings/", views.org_settings, name="org_settings"),
        path("o/<slug:org_slug>/audit/", views.audit_log, name="audit_log"),
        # Beside allauth's account pages (e-mail, password, 2FA), which have no such route.
        path("accounts/profile/", views_profile.profile, name="profile"),
        path("accounts/privacy/", views.privacy_page, name="privacy"),
        path("accounts/privacy/export/", views.export_personal_data, name="export_personal_data"),
        path("accounts/privacy/erase/", views.erase_personal_data, name="erase_personal_data"),
        # The person's own inbox: no organisation in the path, notifications are personal.
        path("notifications/", views_notifications.inbox, name="notifications"),
        path("notifications/read/", views_notifications.read_all, name="notifications_read_all"),
        path("notifications/unread/", views_notifications.unread, name="notifications_unread"),
        path(
            "notifications/<int:notification_id>/read/",
            views_notifications.read,
            name="notification_read",
        ),
    ],
    "portal",
)

urlpatterns = [
    path("accounts/", include("allauth.urls")),
    # Before Django's own: the switch also stores a signed-in person's choice.
    path("i18n/setlang/", views_profile.set_language, name="set_language"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("api/v1/", api.urls),
    re_path(r"^api/(?P<path>.*)$", unknown_path, name="api_unknown_path"),
    # Sign-out goes through allauth too, so it is audited like every other sign-out.
    path(
        "admin/logout/",
        RedirectView.as_view(pattern_name="account_logout"),
        name="wagtail_logout_redirect",
    ),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("", include(app_urls)),
    path("", include("carbon.urls")),
    path("", include("community.urls")),
    path("", include("beta_program.urls")),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns += [
    # Wagtail's own front-end login would be a second password form without MFA or rate limits.
    path(
        "_util/login/",
        RedirectView.as_view(pattern_name="account_login", query_string=True),
        name="wagtail_login_redirect",
    ),
    path("", include(wagtail_urls)),
]
