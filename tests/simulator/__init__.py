"""A DynamoDB Streams simulator for the connector's tests (``python -m tests.simulator``; __main__.py says what
it simulates and what it does not), and the test-side API: SimulatorProcess, read_change_log, final_state."""

from tests.simulator.changelog import changes_by_key, final_state, read_change_log
from tests.simulator.process import SimulatorProcess

__all__ = ["SimulatorProcess", "changes_by_key", "final_state", "read_change_log"]
