"""The test-side launcher: runs the simulator as a child process and talks to its control paths.

    with SimulatorProcess(shards=300, rotate_s=2, retention_s=20, writes_per_s=200, log=tmp_path / "c.jsonl") as sim:
        config["dynamodb.service.endpoint"] = sim.endpoint
        ...                                    # run the connector against it
        sim.pause_writes()                     # the change log is final from here on
        expected = final_state(read_change_log(tmp_path / "c.jsonl"))
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson

REPO_ROOT = Path(__file__).resolve().parents[2]


def flags(**knobs: Any) -> list[str]:
    """Keyword knobs as command-line flags: rotate_s=2 → --rotate-s 2, throttle=True → --throttle."""
    args: list[str] = []
    for name, value in knobs.items():
        if value is None or value is False:
            continue
        args.append("--" + name.replace("_", "-"))
        if value is not True:
            args.append(str(value))
    return args


class SimulatorProcess:
    """``with SimulatorProcess(shards=300, rotate_s=2, log=path) as sim: ... sim.endpoint ...``"""

    def __init__(self, start_timeout_s: float = 15.0, **knobs: Any):
        self.args = flags(**knobs)
        self.start_timeout_s = start_timeout_s
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> SimulatorProcess:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]))
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.simulator", "--port", "0", "--parent-pid", str(os.getpid()), *self.args],
            cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE)
        line = self._first_line(time.monotonic() + self.start_timeout_s)
        if not line.startswith("LISTENING "):
            self.stop()
            raise RuntimeError(f"the simulator did not start (args {self.args}): first line {line!r}")
        self.port = int(line.split()[1])
        return self

    def _first_line(self, deadline: float) -> str:
        assert self._proc is not None and self._proc.stdout is not None
        out = self._proc.stdout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([out], [], [], 0.1)
            if ready:
                return out.readline().decode().strip()  # the process prints it in one flushed write
            if self._proc.poll() is not None:
                return f"<exited {self._proc.returncode}>"
        return "<no answer in time>"

    def stop(self, timeout_s: float = 5.0) -> int | None:
        """SIGTERM, then SIGKILL if it has not exited within the timeout; its exit code."""
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout_s)
        if proc.stdout:
            proc.stdout.close()
        return proc.returncode

    def __enter__(self) -> SimulatorProcess:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    # ---- control ------------------------------------------------------------------------------------------

    def control(self, name: str, body: dict[str, Any] | None = None, method: str = "POST") -> Any:
        data = orjson.dumps(body) if body is not None else b""
        request = urllib.request.Request(f"{self.endpoint}/_control/{name}", data=data if method == "POST" else None,
                                         method=method)
        with urllib.request.urlopen(request, timeout=10) as answer:
            return orjson.loads(answer.read())

    def stats(self) -> dict[str, Any]:
        return dict(self.control("stats", method="GET"))

    def pause_writes(self) -> None:
        self.control("pause-writes")

    def resume_writes(self) -> None:
        self.control("resume-writes")

    def set(self, **knobs: Any) -> dict[str, Any]:
        return dict(self.control("set", knobs))
