"""The carbon plugin in the Wagtail admin: the footprint wing's "Carbon" menu group and the points
wing's "Points" group, and the reference data the demo needs first."""

from wagtail import hooks

from carbon.footprint.admin import CarbonGroup
from carbon.management.commands.load_reference_data import load_reference_data
from carbon.points.admin import PointsGroup
from carbon.reports.admin import ReportViewSet


@hooks.register("register_admin_viewset")
def register_carbon_viewsets() -> CarbonGroup:
    return CarbonGroup()


@hooks.register("register_admin_viewset")
def register_points_viewsets() -> PointsGroup:
    return PointsGroup()


@hooks.register("register_admin_viewset")
def register_report_viewset() -> ReportViewSet:
    return ReportViewSet()


@hooks.register("greenloop_seed_demo", order=0)
def seed_reference_data(stdout=None) -> None:
    """The demo needs the cited factor datasets before orders can get a footprint."""
    load_reference_data(stdout=stdout)
