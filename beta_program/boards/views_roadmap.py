"""The roadmap: the ideas a person sees, in columns by status (the statuses staff mark as a
roadmap column, in workflow order) or, with `?view=quarter`, by the quarter they are planned
for. Each column holds its most recently active ideas, capped, with how many more there are.

Every idea comes from `access.ideas_for` (listed ones only), so a private board's idea shows
only to its organisations; the board filter `?board=<slug>` answers 404 for a board the
person does not see. The page costs a fixed number of queries whatever the number of ideas:
one window query picks each column's first ideas, one counts each column."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Case, CharField, Count, F, QuerySet, Value, When, Window
from django.db.models.functions import Cast, RowNumber
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from beta_program.boards.access import board_or_404, boards_for, ideas_for
from beta_program.boards.models import Board, Idea, IdeaStatus, StatusKind, quarter_start
from portal.models import Organisation
from portal.views import organisation_view

# Ideas shown per column; the rest are counted and reached through the column's "more" link.
PER_COLUMN = 8
QUARTERS_AHEAD = 4
LATER = "later"
UNSCHEDULED = "unscheduled"


@dataclass
class Column:
    key: str
    title: str
    status: IdeaStatus | None = None
    ideas: list[Idea] = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> int:
        return max(0, self.total - len(self.ideas))


def next_quarter(start: datetime.date) -> datetime.date:
    """The first day of the quarter after the one starting on `start`."""
    month = start.month + 3
    return start.replace(year=start.year + (month - 1) // 12, month=(month - 1) % 12 + 1)


def quarter_starts(today: datetime.date, count: int = QUARTERS_AHEAD) -> list[datetime.date]:
    """The first days of this quarter and the `count - 1` quarters after it."""
    starts = [quarter_start(today)]
    while len(starts) < count:
        starts.append(next_quarter(starts[-1]))
    return starts


def quarter_title(start: datetime.date) -> str:
    return _("%(year)s Q%(quarter)s") % {"year": start.year, "quarter": (start.month - 1) // 3 + 1}


def _fill(columns: list[Column], ideas: QuerySet[Idea], column_of) -> None:
    """Put each column's first PER_COLUMN ideas (newest activity first) and its total in place:
    two queries, however many ideas and columns."""
    by_key = {column.key: column for column in columns}
    keyed = ideas.annotate(column_key=column_of)
    for row in keyed.values("column_key").annotate(n=Count("pk")):
        if row["column_key"] in by_key:
            by_key[row["column_key"]].total = row["n"]
    first = (
        keyed.annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("column_key")],
                order_by=[F("last_activity_at").desc(), F("pk").desc()],
            )
        )
        .filter(rank__lte=PER_COLUMN)
        .select_related("board", "status")
        .order_by("-last_activity_at", "-pk")
    )
    for found in first:
        if found.column_key in by_key:
            by_key[found.column_key].ideas.append(found)


def status_columns(ideas: QuerySet[Idea]) -> list[Column]:
    columns = [
        Column(key=str(status.pk), title=status.display_name, status=status)
        for status in IdeaStatus.objects.filter(on_roadmap=True).order_by("position", "pk")
    ]
    _fill(columns, ideas, Cast("status_id", CharField()))
    return columns


def quarter_columns(ideas: QuerySet[Idea], today: datetime.date) -> list[Column]:
    """This quarter and the next three (an idea planned for a past quarter and not shipped yet
    is still due: it shows in this quarter), then "later" and "unscheduled". Ideas in a closed
    status (shipped, declined) have left the plan."""
    starts = quarter_starts(today)
    columns = [Column(key=start.isoformat(), title=quarter_title(start)) for start in starts]
    columns += [
        Column(key=LATER, title=_("Later")),
        Column(key=UNSCHEDULED, title=_("Unscheduled")),
    ]
    column_of = Case(
        When(planned_quarter__isnull=True, then=Value(UNSCHEDULED)),
        *[When(planned_quarter__lte=start, then=Value(start.isoformat())) for start in starts],
        default=Value(LATER),
        output_field=CharField(),
    )
    open_ideas = ideas.filter(status__on_roadmap=True).exclude(
        status__kind__in=[StatusKind.SHIPPED, StatusKind.DECLINED, StatusKind.DUPLICATE]
    )
    _fill(columns, open_ideas, column_of)
    return columns


@require_GET
@organisation_view()
def roadmap(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    ideas = ideas_for(request.user, organisation).listed()
    board: Board | None = None
    if request.GET.get("board"):
        board = board_or_404(request.user, organisation, request.GET["board"][:80])
        ideas = ideas.filter(board=board)
    by_quarter = request.GET.get("view") == "quarter"
    columns = quarter_columns(ideas, timezone.localdate()) if by_quarter else status_columns(ideas)
    context = {
        "organisation": organisation,
        "columns": columns,
        "by_quarter": by_quarter,
        "board": board,
        "boards": list(
            boards_for(request.user, organisation).only("pk", "slug", "name", "name_zh")
        ),
    }
    return render(request, "beta_program/boards/roadmap.html", context)
