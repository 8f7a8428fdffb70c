from django.urls import path

from carbon import views as pages
from carbon.footprint import views
from carbon.points import views as views_points
from carbon.reports import views as views_reports

app_name = "carbon"

urlpatterns = [
    path("o/<slug:org_slug>/orders/", views.orders, name="orders"),
    path("o/<slug:org_slug>/orders/import/", views.import_orders, name="import_orders"),
    path(
        "o/<slug:org_slug>/orders/import/example.csv",
        views.import_example,
        name="import_example",
    ),
    path(
        "o/<slug:org_slug>/orders/import/categories/",
        views.import_categories,
        name="import_categories",
    ),
    path("o/<slug:org_slug>/orders/import/<int:job_id>/", views.import_job, name="import_job"),
    path("o/<slug:org_slug>/orders/<int:order_id>/", pages.order_detail, name="order_detail"),
    path("o/<slug:org_slug>/green-power/", views.green_power, name="green_power"),
    path("o/<slug:org_slug>/trends/", pages.trends, name="trends"),
    path("o/<slug:org_slug>/method/", pages.method_statement, name="method_statement"),
    path(
        "o/<slug:org_slug>/green-power/<int:declaration_id>/evidence/",
        views.evidence,
        name="evidence",
    ),
    path(
        "o/<slug:org_slug>/green-power/<int:declaration_id>/proofs/<int:instrument_id>/",
        views.proof,
        name="green_power_proof",
    ),
    # Carbon points (carbon/points/views.py)
    path("o/<slug:org_slug>/points/", views_points.statement, name="points"),
    path("o/<slug:org_slug>/points/statement.csv", views_points.statement_csv, name="points_csv"),
    path("o/<slug:org_slug>/points/how-it-works/", views_points.policy, name="points_policy"),
    path("o/<slug:org_slug>/points/catalogue/", views_points.catalogue, name="catalogue"),
    path(
        "o/<slug:org_slug>/points/catalogue/<slug:service_slug>/redeem/",
        views_points.redeem,
        name="redeem",
    ),
    path("o/<slug:org_slug>/points/redemptions/", views_points.redemptions, name="redemptions"),
    # The redemption e-mails link here (carbon/templates/carbon/email/redemption.txt).
    path(
        "o/<slug:org_slug>/points/redemptions/<int:pk>/",
        views_points.redemption_detail,
        name="redemption_detail",
    ),
    path(
        "o/<slug:org_slug>/points/redemptions/<int:pk>/cancel/",
        views_points.redemption_cancel,
        name="redemption_cancel",
    ),
    # Carbon reports (carbon/reports/views.py); the report e-mail links to report_detail.
    path("o/<slug:org_slug>/reports/", views_reports.reports, name="reports"),
    path(
        "o/<slug:org_slug>/reports/<uuid:report_id>/",
        views_reports.report_detail,
        name="report_detail",
    ),
    path(
        "o/<slug:org_slug>/reports/<uuid:report_id>/download/",
        views_reports.report_download,
        name="report_download",
    ),
]
