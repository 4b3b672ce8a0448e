"""The engine's metrics on the worker's Prometheus endpoint, checked against a run with known counts, and the
`ddb-cdc status` command on a running connector."""

import re
import subprocess
import sys

import requests

from python_connector.cli.status import parse_metrics
from tests.integration.conftest import ROOT, wait_until
from tests.integration.tables import create_table, load

ITEMS = 1200


def caught_up(stack, name, table):
    """One scrape: lag 0 and the whole retention left (an empty page need not be the shard's end yet)."""
    text = requests.get(stack.metrics_url, timeout=10).text
    seen = {n: v for n, ls, v in parse_metrics(text) if ls.get("connector") == name and ls.get("table") == table}
    return seen.get("ddbcdc_cdc_lag_ms") == 0 and seen.get("ddbcdc_cdc_retention_left_ms") == 24 * 3_600_000


def test_metrics_count_the_snapshot_and_show_the_lag_and_status_shows_them(stack, unique):
    table = f"metrics_{unique}"
    ddb = stack.dynamodb()
    create_table(ddb, table, [("id", "N")], stream_view="NEW_AND_OLD_IMAGES")
    load(ddb, table, ITEMS, lambda i: {"id": {"N": str(i)}})
    name = f"metrics-{unique}"
    stack.create_connector(name, stack.connector_config(table, **{
        "dynamodb.table.sync.mode": "SNAPSHOT_CDC", "poll.linger.ms": "100"}))
    try:
        wait_until(lambda: stack.metric("ddbcdc_table_phase", connector=name, table=table, phase="cdc") == [1.0],
                   120, "the table to reach its CDC phase")
        assert sum(stack.metric("ddbcdc_snapshot_items_read_total", connector=name, table=table)) == ITEMS
        assert sum(stack.metric("ddbcdc_snapshot_items_estimated", connector=name, table=table)) == ITEMS
        wait_until(lambda: stack.metric("ddbcdc_leases_owned", connector=name, table=table) == [1.0], 30,
                   "the task to hold the table's one lease")
        for i in range(5):
            ddb.put_item(TableName=table, Item={"id": {"N": str(ITEMS + i)}})
        wait_until(lambda: sum(stack.metric("ddbcdc_records_total", connector=name, table=table, kind="cdc")) >= 5,
                   60, "the changes counted")
        # Writes paused: once the shard is read to its end the lag is 0 and the whole retention is left.
        wait_until(lambda: caught_up(stack, name, table), 60, "the lag to fall to 0")

        shown = subprocess.run([sys.executable, "-m", "python_connector", "status", "--connect-url",
                                stack.connect_url, "--metrics-url", stack.metrics_url],
                               capture_output=True, text=True, timeout=60, cwd=ROOT, check=True).stdout
    finally:
        stack.delete_connector(name)
    block = shown[shown.index(f"connector {name}"):].splitlines()
    assert "RUNNING" in block[0] and "tasks 1/1 RUNNING" in block[0]
    line = next(line for line in block[1:] if table in line)
    assert " cdc " in line and re.search(r"lag [\d,]+ ms \(max over 1 shard\(s\)\)", line) and "leases 1" in line
