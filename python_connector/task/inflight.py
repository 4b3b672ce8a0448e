"""Batches handed to Connect and not yet acknowledged: what each acknowledgement releases and commits."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field

from python_connector.streams.leases import Committed


@dataclass
class InFlight:
    """A batch handed to Connect: what its acknowledgement releases and makes committed."""

    records: int
    snapshot_records: Counter[str]
    committed: list[Committed] = field(default_factory=list)
    acked: bool = False


class InFlightBatches:
    """Batches Connect has not acknowledged yet. Their positions become committed in poll order, as Connect's
    own offsets do: a batch acknowledged early waits for every earlier one (not thread-safe: callers lock)."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._batches: dict[int, InFlight] = {}  # in poll order

    def add(self, batch: InFlight) -> int:
        batch_id = next(self._ids)
        self._batches[batch_id] = batch
        return batch_id

    def acknowledge(self, batch_id: int) -> tuple[InFlight | None, list[Committed]]:
        """The batch (None if unknown) and the positions now committed."""
        batch = self._batches.get(batch_id)
        if batch is None:
            return None, []
        batch.acked = True
        committed: list[Committed] = []
        while self._batches and (first := next(iter(self._batches.values()))).acked:
            del self._batches[next(iter(self._batches))]
            committed += first.committed
        return batch, committed
