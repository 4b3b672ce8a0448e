"""The integration suite against docker/compose.yaml (`pytest --stack docker`), through pytest-docker.

The tests reach each service on the host's loopback, the worker in its container reaches them by service
name: `Stack.worker_addresses` maps one to the other. Tests that run worker processes, a broker or a JVM of
their own are marked `local_stack` and skip on this path.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.integration.workers import rest_answers

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILES = [ROOT / "docker" / "compose.yaml", ROOT / "docker" / "compose.test.yaml"]
PROJECT = "ddbcdc-tests"
KAFKA_HOST_PORT = 9094  # fixed: Kafka advertises it to clients, so host and container ports must agree
START_TIMEOUT_S = 600  # the first run builds the worker image (Maven and pip inside)
# (service, container port) of what the tests reach through a published port; the worker uses the same pairs.
CONNECT, METRICS = ("connect", 8083), ("connect", 9404)
SERVICES = {"dynamodb": ("dynamodb", 8000), "registry": ("registry", 8080), "tagging": ("tagging", 5000)}
REGISTRY_PATH = "/apis/ccompat/v7"


def compose_command() -> str | None:
    """Compose v2 as a docker plugin, else the stand-alone v1 command, else None."""
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return "docker compose"
    return "docker-compose" if shutil.which("docker-compose") else None


def docker_missing() -> str | None:
    """Why the compose stack cannot run here, or None when a Docker engine and Compose answer."""
    if not shutil.which("docker"):
        return "no Docker here (no `docker` command): the compose-stack path needs a Docker engine"
    try:
        info = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True,
                              timeout=30)
    except subprocess.TimeoutExpired:
        return "no Docker engine answered `docker info` within 30 s"
    if info.returncode != 0:
        return "no Docker engine answers here (`docker info` failed): the compose-stack path needs one"
    if compose_command() is None:
        return "Docker Compose is missing (neither `docker compose` nor `docker-compose`)"
    return None


def worker_log(command: str) -> str:
    files = [arg for f in COMPOSE_FILES for arg in ("-f", str(f))]
    return subprocess.run([*command.split(), *files, "-p", PROJECT, "logs", "--no-color", "connect"],
                          capture_output=True, text=True, timeout=60, check=True).stdout


def stack_fields(services: Any, ip: str, command: str) -> dict[str, Any]:
    """The Stack's fields for a running compose project (`services` is pytest-docker's)."""
    def host(service: str, port: int, path: str = "") -> str:
        return f"http://{ip}:{services.port_for(service, port)}{path}"

    connect = host(*CONNECT)
    services.wait_until_responsive(check=lambda: rest_answers(connect), timeout=START_TIMEOUT_S, pause=1)
    reached = {name: (host(*SERVICES[name], path), f"http://{SERVICES[name][0]}:{SERVICES[name][1]}{path}")
               for name, path in (("dynamodb", ""), ("registry", REGISTRY_PATH), ("tagging", ""))}
    return {
        "dynamodb_endpoint": reached["dynamodb"][0], "bootstrap": f"{ip}:{KAFKA_HOST_PORT}", "connect_url": connect,
        "schema_registry_url": reached["registry"][0], "metrics_url": host(*METRICS, "/metrics"),
        "tagging_endpoint": reached["tagging"][0], "worker_addresses": dict(reached.values()),
        "worker_log_reader": lambda: worker_log(command),
    }
