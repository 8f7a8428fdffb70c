from django.urls import path

from carbon import views

app_name = "carbon"

urlpatterns = [
    path("o/<slug:org_slug>/orders/", views.orders, name="orders"),
    path("o/<slug:org_slug>/orders/import/", views.import_orders, name="import_orders"),
    path(
        "o/<slug:org_slug>/orders/import/example.csv",
        views.import_example,
        name="import_example",
    ),
    path("o/<slug:org_slug>/orders/import/<int:job_id>/", views.import_job, name="import_job"),
    path("o/<slug:org_slug>/orders/<int:order_id>/", views.order_detail, name="order_detail"),
    path("o/<slug:org_slug>/green-power/", views.green_power, name="green_power"),
    path(
        "o/<slug:org_slug>/green-power/<int:declaration_id>/evidence/",
        views.evidence,
        name="evidence",
    ),
]
