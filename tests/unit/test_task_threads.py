import sys
import threading
from pathlib import Path

import pytest

from python_connector.task.threads import name_this_thread


@pytest.mark.skipif(sys.platform != "linux", reason="OS thread names are read from /proc")
def test_a_named_thread_shows_its_name_to_the_operating_system_cut_to_15_characters():
    seen = []

    def body() -> None:
        name_this_thread("ddbcdc-scan-orders-3")
        seen.append(Path(f"/proc/self/task/{threading.get_native_id()}/comm").read_text().strip())

    thread = threading.Thread(target=body)
    thread.start()
    thread.join(10)
    assert seen == ["ddbcdc-scan-ord"]
