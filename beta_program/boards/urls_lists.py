"""R&D board lists (the boards, one board's ideas, proposing), under /o/<slug>/ideas/."""

from django.urls import path

from beta_program.boards import views_lists

urlpatterns = [
    path("o/<slug:org_slug>/ideas/", views_lists.index, name="ideas"),
]
