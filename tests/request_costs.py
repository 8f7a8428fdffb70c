"""What a request costs in work that grows with code paths rather than with time: SQL statements
compiled (SQLCompiler.as_sql, subqueries included) and URLs reversed (reverse() and {% url %}).

Counted, not timed, so the guards that use it hold on a loaded machine: a page whose counts grow
with the number of rows it lists builds SQL or links per row.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from unittest import mock

from django.db.models.sql.compiler import SQLCompiler
from django.urls.resolvers import URLResolver


@dataclass
class Costs:
    compilations: int = 0
    reverses: int = 0

    def as_tuple(self) -> tuple[int, int]:
        return (self.compilations, self.reverses)


@contextmanager
def counting() -> Iterator[Costs]:
    costs = Costs()
    as_sql = SQLCompiler.as_sql
    reverse_with_prefix = URLResolver._reverse_with_prefix

    def counted_as_sql(self, *args, **kwargs):
        costs.compilations += 1
        return as_sql(self, *args, **kwargs)

    def counted_reverse(self, *args, **kwargs):
        costs.reverses += 1
        return reverse_with_prefix(self, *args, **kwargs)

    with (
        mock.patch.object(SQLCompiler, "as_sql", counted_as_sql),
        mock.patch.object(URLResolver, "_reverse_with_prefix", counted_reverse),
    ):
        yield costs


def page_costs(client, url: str) -> Costs:
    """The costs of one GET of `url` (after a first GET that warms caches and templates), which
    must answer 200."""
    assert client.get(url).status_code == 200
    with counting() as costs:
        response = client.get(url)
    assert response.status_code == 200, url
    return costs
