"""Domain errors of the footprint wing: calculations, factors, datasets and declarations."""

from __future__ import annotations

from portal.exceptions import PortalError


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
