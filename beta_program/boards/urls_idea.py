"""The idea page and what people do on it, under /o/<slug>/ideas/<id>/."""

from django.urls import path

from beta_program.boards import views_idea

urlpatterns = [
    path("o/<slug:org_slug>/ideas/<int:idea_id>/", views_idea.idea, name="idea"),
]
