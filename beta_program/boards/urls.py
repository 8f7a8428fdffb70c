"""R&D board pages, in the `beta` namespace (names start with `idea`). Each area keeps its
routes in a module of its own."""

from django.urls import include, path

from beta_program.boards import views_go

urlpatterns = [
    path("ideas/<int:idea_id>/", views_go.go, name="idea_go"),
    path("", include("beta_program.boards.urls_lists")),
    path("", include("beta_program.boards.urls_idea")),
    path("", include("beta_program.boards.urls_roadmap")),
    path("", include("beta_program.boards.urls_codev")),
]
