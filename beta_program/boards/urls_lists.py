"""R&D board lists (the boards, one board's ideas, proposing), under /o/<slug>/ideas/."""

from django.urls import path

from beta_program.boards import views_lists

urlpatterns = [
    path("o/<slug:org_slug>/ideas/", views_lists.index, name="ideas"),
    path("o/<slug:org_slug>/ideas/b/<slug:board_slug>/", views_lists.board, name="ideas_board"),
    path(
        "o/<slug:org_slug>/ideas/b/<slug:board_slug>/new/",
        views_lists.propose,
        name="ideas_propose",
    ),
    path(
        "o/<slug:org_slug>/ideas/b/<slug:board_slug>/similar/",
        views_lists.similar,
        name="ideas_similar",
    ),
]
