"""Where a shard is read from: the checkpoint values a lease or an offset holds, and a table's initial position.

A checkpoint is ``TRIM_HORIZON``, ``LATEST``, ``AT_TIMESTAMP:<epoch ms>``, a sequence number (the last change
emitted) or ``SHARD_END`` (read to its end).
"""

from __future__ import annotations

from dataclasses import dataclass

TRIM_HORIZON, LATEST, SHARD_END = "TRIM_HORIZON", "LATEST", "SHARD_END"
AT_TIMESTAMP = "AT_TIMESTAMP:"


def is_sequence(checkpoint: str) -> bool:
    return checkpoint[:1].isdigit()


def further(lease_checkpoint: str, stored: str | None) -> str:
    """The resume point from a lease checkpoint and Connect's stored position (a sequence number or SHARD_END)."""
    if stored is None or lease_checkpoint == SHARD_END:
        return lease_checkpoint
    if stored == SHARD_END or not is_sequence(lease_checkpoint):
        return stored
    return max(lease_checkpoint, stored, key=int)


@dataclass(frozen=True)
class InitialPosition:
    """Where the shards listed at a table's first CDC start begin."""

    kind: str  # TRIM_HORIZON, LATEST or AT_TIMESTAMP
    at_ms: int | None = None
