"""A JVM in this Python process with the shim, its test driver (BridgeDriver) and Connect's jars, for bridge tests."""

from __future__ import annotations

from pathlib import Path

import jpype

from python_connector.jvm import worker

ROOT = Path(__file__).resolve().parents[2]
JARS = [ROOT / "java_shim" / "plugin" / "target" / "ddb-cdc-source.jar",
        ROOT / "java_shim" / "plugin" / "target" / "ddb-cdc-source-tests.jar"]


def start() -> None:
    if not jpype.isJVMStarted():
        kafka = (ROOT / ".stack" / "classpath" / "kafka.txt").read_text().strip().split(":")
        worker.start_jvm([*map(str, JARS), *kafka], ["-Xmx512m"])
