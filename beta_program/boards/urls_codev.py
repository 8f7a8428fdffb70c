"""Co-development of an idea on a private board, under /o/<slug>/ideas/<id>/co-development/."""

from django.urls import path

from beta_program.boards import views_codev

PREFIX = "o/<slug:org_slug>/ideas/<int:idea_id>/co-development/"

urlpatterns = [
    path(PREFIX, views_codev.codev, name="idea_codev"),
    path(f"{PREFIX}milestones/", views_codev.add_milestone, name="idea_milestone_add"),
    path(
        f"{PREFIX}milestones/<int:milestone_id>/",
        views_codev.update_milestone,
        name="idea_milestone_update",
    ),
    path(f"{PREFIX}documents/", views_codev.share_document, name="idea_document_share"),
    path(f"{PREFIX}documents/<int:document_id>/", views_codev.document, name="idea_document"),
    path(f"{PREFIX}co-owners/", views_codev.set_co_owners, name="idea_co_owners"),
]
