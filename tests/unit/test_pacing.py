import threading

import pytest

from python_connector.aws import capacity
from python_connector.snapshot import pacing


def test_provisioned_capacity_is_the_tables_read_capacity_units():
    table = {"ProvisionedThroughput": {"ReadCapacityUnits": 200}}
    assert capacity.table_capacity(table, lambda: pytest.fail("limits not needed")) == 200


def test_on_demand_capacity_is_the_tables_ceiling_else_the_account_table_limit():
    on_demand = {"BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
                 "ProvisionedThroughput": {"ReadCapacityUnits": 0}}
    assert capacity.table_capacity({**on_demand, "OnDemandThroughput": {"MaxReadRequestUnits": 3000}},
                                 lambda: 40000) == 3000
    assert capacity.table_capacity({**on_demand, "OnDemandThroughput": {"MaxReadRequestUnits": -1}},
                                 lambda: 40000) == 40000


def test_a_tasks_budget_is_its_segments_share_of_the_percentage():
    assert pacing.task_budget(100, 50, 2, 5) == 20
    assert sum(pacing.task_budget(100, 50, n, 5) for n in (3, 2)) == 50


class FakeTime:
    """A clock that a pause moves forward instead of sleeping."""

    def __init__(self):
        self.now = 0.0
        self.pauses = []

    def clock(self):
        return self.now

    def pause(self, _cond, timeout):
        self.pauses.append(timeout)
        self.now += timeout


def test_requests_wait_until_the_previous_pages_cost_is_repaid():
    t = FakeTime()
    budget = pacing.ReadBudget(10.0, clock=t.clock, pause=t.pause)
    stopped = threading.Event()
    budget.wait(stopped)  # the first request starts at once
    budget.charge(25.0)  # and cost 2.5 s of budget
    budget.wait(stopped)
    assert t.now == pytest.approx(2.5)
    assert all(p <= 1.0 for p in t.pauses)


def test_consumption_over_a_run_matches_the_budget():
    t = FakeTime()
    budget = pacing.ReadBudget(40.0, clock=t.clock, pause=t.pause)
    stopped = threading.Event()
    consumed = 0.0
    for _ in range(400):
        budget.wait(stopped)
        budget.charge(10.0)
        consumed += 10.0
    assert consumed / t.now == pytest.approx(40.0, rel=0.01)


def test_an_idle_spell_allows_no_more_than_one_second_of_burst():
    t = FakeTime()
    budget = pacing.ReadBudget(10.0, clock=t.clock)
    t.now = 3600.0
    assert budget.balance == 10.0


def test_page_limit_keeps_a_page_near_a_quarter_second_of_budget():
    budget = pacing.ReadBudget(100.0)
    assert budget.page_limit(0.125, 1000) == 200
    assert budget.page_limit(0.125, 50) == 50
    assert budget.page_limit(1000.0, 50) == 1


def test_units_per_item_comes_from_table_size_and_count():
    assert capacity.units_per_item_estimate({"ItemCount": 10, "TableSizeBytes": 81920}) == pytest.approx(1.0)
    assert capacity.units_per_item_estimate({}) == pytest.approx(0.125)

