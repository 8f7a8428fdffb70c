"""Beta programme URLs, one wing each: programmes and the R&D boards."""

from django.urls import include, path

app_name = "beta"

urlpatterns = [
    path("", include("beta_program.programmes.urls")),
    path("", include("beta_program.boards.urls")),
]
