"""Beta programme pages, under the organisation the person acts for."""

from django.urls import path

from beta_program.programmes import views

urlpatterns = [
    path("o/<slug:org_slug>/beta/", views.index, name="index"),
    path("o/<slug:org_slug>/beta/applications/", views.applications, name="applications"),
    path("o/<slug:org_slug>/beta/p/<slug:programme_slug>/", views.programme, name="programme"),
    path("o/<slug:org_slug>/beta/p/<slug:programme_slug>/apply/", views.apply, name="apply"),
    path("o/<slug:org_slug>/beta/p/<slug:programme_slug>/nda/", views.nda, name="nda"),
    path(
        "o/<slug:org_slug>/beta/p/<slug:programme_slug>/builds/<int:build_id>/download/",
        views.download_build,
        name="download_build",
    ),
    path("o/<slug:org_slug>/beta/agreements/", views.nda_acceptances, name="nda_acceptances"),
]
