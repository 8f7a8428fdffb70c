"""R&D board pages (idea), under the organisation the person acts for (/o/<slug>/ideas/)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
