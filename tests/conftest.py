"""Options for the whole suite."""

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--stack", choices=("local", "docker"), default="local",
                     help="what the integration tests run against: local, the processes `make up` starts "
                          "(default); docker, docker/compose.yaml through pytest-docker, skipped where no "
                          "Docker engine answers")
