"""The integration suite's docker/compose.yaml path (`pytest --stack docker`) skips cleanly without Docker."""

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from tests.integration import compose_stack

ROOT = Path(__file__).resolve().parents[2]


def test_without_a_docker_engine_every_integration_test_skips_saying_why():
    # A socket nobody listens on: no Docker engine, whatever this machine has.
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    run = subprocess.run([sys.executable, "-m", "pytest", "tests/integration", "--stack", "docker", "-q", "-rs",
                          "-p", "no:cacheprovider"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    summary = run.stdout.strip().splitlines()[-1]
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert re.fullmatch(r"\d+ skipped in [\d.]+s", summary), summary
    assert int(summary.split()[0]) > 50  # the whole suite, not an empty collection
    assert re.search(r"SKIPPED \[\d+\] .*(no Docker|Docker engine)", run.stdout), run.stdout[-2000:]


def test_the_compose_files_publish_every_port_the_docker_path_reaches():
    services: dict[str, dict] = {}
    for file in compose_stack.COMPOSE_FILES:
        for name, spec in yaml.safe_load(file.read_text())["services"].items():
            merged = services.setdefault(name, {})
            merged["ports"] = merged.get("ports", []) + spec.get("ports", [])
    reached = [compose_stack.CONNECT, compose_stack.METRICS, *compose_stack.SERVICES.values(),
               ("kafka", compose_stack.KAFKA_HOST_PORT)]
    for service, port in reached:
        published = [str(p).rsplit(":", 1)[-1] for p in services[service]["ports"]]
        assert str(port) in published, f"{service} does not publish {port}: {services[service]['ports']}"
