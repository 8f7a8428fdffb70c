"""R&D board pages (roadmap), under the organisation the person acts for (/o/<slug>/ideas/)."""

from django.urls import path

from beta_program.boards import views_roadmap

urlpatterns = [
    path("o/<slug:org_slug>/ideas/roadmap/", views_roadmap.roadmap, name="ideas_roadmap"),
]
