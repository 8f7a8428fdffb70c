"""Beta programme pages, under the organisation the person acts for."""

from django.urls import path

from beta_program.programmes import feedback_views, views

urlpatterns = [
    path("o/<slug:org_slug>/beta/", views.index, name="index"),
    path("o/<slug:org_slug>/beta/applications/", views.applications, name="applications"),
    path(
        "o/<slug:org_slug>/beta/applications/<int:application_id>/withdraw/",
        views.withdraw,
        name="withdraw",
    ),
    path("o/<slug:org_slug>/beta/p/<slug:programme_slug>/", views.programme, name="programme"),
    path("o/<slug:org_slug>/beta/p/<slug:programme_slug>/apply/", views.apply, name="apply"),
    path("o/<slug:org_slug>/beta/p/<slug:programme_slug>/nda/", views.nda, name="nda"),
    path(
        "o/<slug:org_slug>/beta/p/<slug:programme_slug>/builds/<int:build_id>/download/",
        views.download_build,
        name="download_build",
    ),
    path(
        "o/<slug:org_slug>/beta/announcements/<int:announcement_id>/",
        views.announcement,
        name="announcement",
    ),
    path("o/<slug:org_slug>/beta/agreements/", views.nda_acceptances, name="nda_acceptances"),
    path(
        "o/<slug:org_slug>/beta/p/<slug:programme_slug>/feedback/new/",
        feedback_views.new_feedback,
        name="feedback_new",
    ),
    path(
        "o/<slug:org_slug>/beta/p/<slug:programme_slug>/feedback/similar/",
        feedback_views.similar_feedback,
        name="feedback_similar",
    ),
    path(
        "o/<slug:org_slug>/beta/p/<slug:programme_slug>/builds/<int:build_id>/survey/",
        feedback_views.survey,
        name="survey",
    ),
    path("o/<slug:org_slug>/beta/feedback/", feedback_views.my_feedback, name="feedback"),
    path(
        "o/<slug:org_slug>/beta/feedback/<int:feedback_id>/",
        feedback_views.feedback_detail,
        name="feedback_detail",
    ),
    path(
        "o/<slug:org_slug>/beta/feedback/<int:feedback_id>/attachments/<int:attachment_id>/",
        feedback_views.feedback_attachment,
        name="feedback_attachment",
    ),
]
