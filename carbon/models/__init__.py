"""The carbon app's models, one module per concern, all importable from `carbon.models`
(Django and the migrations look them up here)."""

from carbon.models.datasets import (
    DatasetStatus,
    EmissionFactor,
    EnergyScope,
    FactorDataset,
    FactorDatasetQuerySet,
    FactorKind,
    GwpBasis,
    ImmutableError,
)
from carbon.models.declarations import (
    DeclarationStatus,
    GreenPowerDeclaration,
    GreenPowerDeclarationQuerySet,
    Instrument,
    evidence_path,
)
from carbon.models.imports import (
    ImportJob,
    ImportStatus,
    import_path,
)
from carbon.models.orders import (
    DataTier,
    FuelType,
    Leg,
    Order,
    OrderLine,
    OrderQuerySet,
    OrderStatus,
    Product,
    Shipment,
)
from carbon.models.points import (
    ENTRY_RULES,
    AppendOnlyError,
    EntryKind,
    ExpiryReminder,
    LedgerEntry,
    LedgerEntryQuerySet,
    PointsAccount,
    PointsAward,
    PointsPolicy,
    PointsPolicyQuerySet,
    PolicyStatus,
)
from carbon.models.redemptions import (
    Redemption,
    RedemptionStatus,
    Service,
    ServiceKind,
    ServiceQuerySet,
)
from carbon.models.snapshots import (
    CalculationSnapshot,
)

__all__ = [
    "ImmutableError",
    "GwpBasis",
    "DatasetStatus",
    "FactorDatasetQuerySet",
    "FactorDataset",
    "EnergyScope",
    "FactorKind",
    "EmissionFactor",
    "Product",
    "OrderStatus",
    "OrderQuerySet",
    "Order",
    "OrderLine",
    "Shipment",
    "DataTier",
    "FuelType",
    "Leg",
    "Instrument",
    "DeclarationStatus",
    "GreenPowerDeclarationQuerySet",
    "evidence_path",
    "GreenPowerDeclaration",
    "CalculationSnapshot",
    "ImportStatus",
    "import_path",
    "ImportJob",
    "AppendOnlyError",
    "PolicyStatus",
    "PointsPolicyQuerySet",
    "PointsPolicy",
    "PointsAccount",
    "PointsAward",
    "EntryKind",
    "LedgerEntryQuerySet",
    "ENTRY_RULES",
    "LedgerEntry",
    "ExpiryReminder",
    "ServiceKind",
    "ServiceQuerySet",
    "Service",
    "RedemptionStatus",
    "Redemption",
]
