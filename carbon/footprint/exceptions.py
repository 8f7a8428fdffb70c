"""Domain errors of the footprint wing: quantities, calculations, factors and factor files,
datasets, declarations and order data. Import any footprint error from here.

Two of them are defined in the pure footprint model and only re-exported here:
`QuantityError` (carbon/footprint/units.py) and `UnitMismatchError` (carbon/footprint/engine.py).
The model imports no Django (tests/carbon/test_footprint_model.py), and this module cannot be
imported without it: the other errors derive from `portal.exceptions.PortalError` (for their
`code`, `status` and `field`), and importing `portal` starts its Celery app, which loads
`django.conf`. So the pure modules keep their own errors and everything else imports them from
here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from carbon.footprint.engine import UnitMismatchError as UnitMismatchError
from carbon.footprint.units import QuantityError as QuantityError
from portal.exceptions import PortalError

if TYPE_CHECKING:
    from carbon.footprint.factor_files import RowError


class CalculationError(PortalError):
    """Inputs that cannot be calculated; `field` names the leg or field at fault."""

    code = "calculation_error"
    status = 422


class FactorError(CalculationError):
    """No usable emission factor for a leg (unknown category, or missing from the dataset)."""

    code = "missing_factor"


class DatasetError(Exception):
    """A dataset action that is not allowed in the dataset's state or for this person."""


class DeclarationError(PortalError):
    code = "invalid_declaration"
    status = 400


class FactorFileError(ValueError):
    """A factor file with problems; `errors` lists every one of them, by row and column."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        shown = "; ".join(str(e) for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"{len(errors)} problem(s) in the factor file: {shown}{more}")


class OrderDataError(PortalError):
    """Order data that cannot be stored; `field` names the offending value."""

    code = "invalid_order"
    status = 400


@dataclass(frozen=True)
class Problem:
    """Why one of the orders given to `store_orders` cannot be stored: its position in the list,
    the field at fault (None for the order as a whole) and the reason."""

    index: int
    field: str | None
    reason: str


class OrdersRejected(OrderDataError):
    """Orders that cannot be stored, every problem listed; the first is the error's own field
    and message. Nothing was written."""

    def __init__(self, problems: list[Problem], *, code: str | None = None):
        super().__init__(problems[0].reason, field=problems[0].field, code=code)
        self.problems = problems
