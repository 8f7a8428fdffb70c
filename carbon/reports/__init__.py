"""Carbon reports: period inventories built from stored snapshots and the points ledger.

Reads both wings (carbon.footprint, carbon.points); neither imports it."""
