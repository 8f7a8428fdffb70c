"""The idea page and what people do on it, under /o/<slug>/ideas/<id>/."""

from django.urls import path

from beta_program.boards import views_idea

IDEA = "o/<slug:org_slug>/ideas/<int:idea_id>/"

urlpatterns = [
    path(IDEA, views_idea.idea, name="idea"),
    path(f"{IDEA}vote/", views_idea.vote, name="idea_vote"),
    path(f"{IDEA}unvote/", views_idea.unvote, name="idea_unvote"),
    path(f"{IDEA}comments/", views_idea.comment, name="idea_comment"),
    path(
        f"{IDEA}comments/<int:comment_id>/hide/",
        views_idea.hide_comment,
        name="idea_comment_hide",
    ),
    path(f"{IDEA}subscription/", views_idea.subscribe, name="idea_subscribe"),
    path(
        f"{IDEA}attachments/<int:idea_attachment_id>/",
        views_idea.attachment,
        name="idea_attachment",
    ),
]
