"""Shard leases, KCL-style: the lease table (``table``) and a task's share of it (``keeper``)."""

from python_connector.streams.leases.keeper import LEASE_DURATION_S, RENEW_S, LeaseKeeper
from python_connector.streams.leases.table import Committed, Lease, LeaseTable, table_name
from python_connector.streams.positions import AT_TIMESTAMP, LATEST, SHARD_END, TRIM_HORIZON, further, is_sequence

__all__ = ["AT_TIMESTAMP", "LATEST", "LEASE_DURATION_S", "RENEW_S", "SHARD_END", "TRIM_HORIZON", "Committed", "Lease",
           "LeaseKeeper", "LeaseTable", "further", "is_sequence", "table_name"]
