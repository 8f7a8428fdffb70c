"""Beta programme URLs, one wing each (programmes today; R&D boards next)."""

from django.urls import include, path

app_name = "beta"

urlpatterns = [path("", include("beta_program.programmes.urls"))]
