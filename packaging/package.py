"""`make package`: the Connect plugin archive in Confluent Hub's layout, and the engine as a wheel.

    dist/ddbcdc-dynamodb-cdc-source-<version>.zip
        ddbcdc-dynamodb-cdc-source-<version>/
            manifest.json     Confluent Hub component manifest
            lib/              the plugin and converter jars (put the unpacked folder on the worker's plugin.path)
            wheel/            the engine's wheel, for `pip install` on a stock worker's host (the plugin's messages
                              name this path)
            doc/              README, IAM policy
            etc/              example connector configurations
    dist/ddb_cdc_connect-<version>-py3-none-any.whl   the engine and launcher (`ddb-cdc`), bridge jar inside

Run after `make build` (which builds the jars); the Maven and Python versions must agree.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
NAME = "dynamodb-cdc-source"
OWNER = "ddbcdc"


def versions() -> str:
    python = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    maven = re.search(r"<version>([^<]+)</version>", (ROOT / "pom.xml").read_text()).group(1)
    if python != maven:
        raise SystemExit(f"pyproject.toml says {python} but pom.xml says {maven}: make them agree")
    return python


def manifest(version: str) -> dict:
    return {
        "name": NAME,
        "version": version,
        "title": "Amazon DynamoDB CDC Source (self-managed)",
        "description": "Snapshots DynamoDB tables into Kafka with the configuration and record format of Confluent "
                       "Cloud's Amazon DynamoDB CDC Source connector. Its engine is Python: install the wheel/ "
                       "it ships with into a Python 3.11+ on the worker's host (any Kafka Connect 4.x worker runs "
                       "it in child processes), or run the worker with `ddb-cdc worker` from that wheel.",
        "owner": {"username": OWNER, "name": "ddb-cdc"},
        "component_types": ["source", "converter"],
        "tags": ["dynamodb", "aws", "cdc", "source"],
        "requirements": ["Kafka Connect 4.x worker, Java 17+", "Python 3.11+ on the worker's host with the wheel in "
                         "wheel/ installed (its path in DDB_CDC_PYTHON or engine.python)"],
        "features": {"supported_encodings": ["any"], "single_message_transforms": True,
                     "confluent_control_center_integration": False, "kafka_connect_api": True},
        "documentation_url": "doc/README.md",
        "docker_image": {},
        "license": [{"name": "Proprietary", "url": "doc/README.md"}],
    }


def archive(version: str, engine_wheel: Path) -> Path:
    base = f"{OWNER}-{NAME}-{version}"
    staging = DIST / base
    shutil.rmtree(staging, ignore_errors=True)
    for sub in ("lib", "wheel", "doc", "etc"):
        (staging / sub).mkdir(parents=True)
    shutil.copy(engine_wheel, staging / "wheel" / engine_wheel.name)
    converters = ROOT / "converters" / "target"
    for jar, name in ((ROOT / "java_shim" / "plugin" / "target" / "ddb-cdc-source.jar", "ddb-cdc-source"),
                      (converters / "ddb-cdc-converters.jar", "ddb-cdc-converters")):
        if not jar.exists():
            raise SystemExit(f"{jar} is missing: run `make build` first")
        shutil.copy(jar, staging / "lib" / f"{name}-{version}.jar")
    for dependency in sorted((converters / "lib").glob("*.jar")):  # Avro and protobuf-java, for the converters
        shutil.copy(dependency, staging / "lib" / dependency.name)
    shutil.copy(ROOT / "README.md", staging / "doc" / "README.md")
    for example in sorted((ROOT / "config-examples").glob("*.json")):
        shutil.copy(example, (staging / "doc" if example.name == "iam-policy.json" else staging / "etc") / example.name)
    (staging / "manifest.json").write_text(json.dumps(manifest(version), indent=2) + "\n")
    target = DIST / f"{base}.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(staging.rglob("*")):
            zf.write(path, path.relative_to(DIST))
    shutil.rmtree(staging)
    return target


def wheel() -> Path:
    if not (ROOT / "python_connector" / "jars" / "ddb-cdc-bridge.jar").exists():
        raise SystemExit("python_connector/jars/ddb-cdc-bridge.jar is missing: run `make build` first")
    for old in DIST.glob("ddb_cdc_connect-*.whl"):
        old.unlink()
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(DIST), str(ROOT)], check=True)
    return next(DIST.glob("ddb_cdc_connect-*.whl"))


def main() -> None:
    version = versions()
    DIST.mkdir(exist_ok=True)
    engine_wheel = wheel()
    print(archive(version, engine_wheel).relative_to(ROOT))
    print(engine_wheel.relative_to(ROOT))


if __name__ == "__main__":
    main()
