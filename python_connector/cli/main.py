"""``ddb-cdc``: the command line of the DynamoDB CDC source."""

from __future__ import annotations

import argparse
import logging
import sys

LOG_FORMAT = "[%(asctime)s] %(levelname)s %(message)s (%(name)s)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ddb-cdc", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    worker = commands.add_parser("worker", help="run a Kafka Connect distributed worker that hosts the connector")
    worker.add_argument("properties", help="connect-distributed.properties of the worker")
    worker.add_argument("--classpath", help="Kafka Connect's jars (default: $KAFKA_CLASSPATH or $KAFKA_HOME/libs/*)")
    worker.add_argument("--metrics-port", type=int, help="serve the engine's metrics (Prometheus text) at "
                                                         "/metrics on this port (default: not served)")
    worker.add_argument("--metrics-host", default="127.0.0.1", help="the address to serve metrics on (127.0.0.1)")
    status_cmd = commands.add_parser("status", help="show each connector's tables: phase, snapshot progress, CDC lag")
    status_cmd.add_argument("--connect-url", default="http://127.0.0.1:8083", help="the worker's REST API")
    status_cmd.add_argument("--metrics-url", action="append", default=[],
                        help="a worker's metrics endpoint (repeat for each worker of the cluster)")
    status_cmd.add_argument("--connector", action="append", default=[], help="only this connector (repeatable)")
    status_cmd.add_argument("--watch", type=float, nargs="?", const=2.0, metavar="SECONDS",
                        help="refresh every SECONDS (2) until interrupted")
    translate = commands.add_parser("translate", help="turn a Confluent Cloud connector config into a "
                                                      "self-managed one (prints it, or submits it)")
    translate.add_argument("file", help="the Cloud connector JSON ({\"config\": {...}} or flat); - for stdin")
    translate.add_argument("--schema-registry-url", help="for AVRO, JSON_SR and PROTOBUF output formats")
    translate.add_argument("--schema-registry-user-info", metavar="KEY:SECRET",
                           help="the registry's basic-auth credentials (a Confluent Cloud Schema Registry API key)")
    translate.add_argument("--submit", metavar="CONNECT_URL", help="PUT the result to this Connect REST URL")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stdout)
    if args.command == "worker":
        from python_connector.jvm import worker as launcher

        try:
            return launcher.run(args.properties, launcher.connect_classpath(args.classpath),
                                launcher.jvm_options_from_env(),
                                None if args.metrics_port is None else (args.metrics_host, args.metrics_port))
        except launcher.LaunchError as e:
            print(f"ddb-cdc worker: {e}", file=sys.stderr)
            return 2
    if args.command == "status":
        from python_connector.cli import status

        return status.main(args.connect_url, args.metrics_url, args.watch, args.connector)
    if args.command == "translate":
        return _translate(args.file, args.schema_registry_url, args.schema_registry_user_info, args.submit)
    return 2


def _translate(path: str, registry_url: str | None, user_info: str | None, submit: str | None) -> int:
    import json
    import urllib.error
    import urllib.request
    from pathlib import Path

    from python_connector.cli.translate import translate
    from python_connector.config import ConfigError

    text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    try:
        result = translate(json.loads(text), registry_url, user_info)
    except ConfigError as e:
        print(f"ddb-cdc translate: {e}", file=sys.stderr)
        return 2
    if not submit:
        print(json.dumps(result, indent=2))
        return 0
    request = urllib.request.Request(f"{submit.rstrip('/')}/connectors/{result['name']}/config", method="PUT",
                                     data=json.dumps(result["config"]).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            print(f"connector {result['name']} submitted to {submit} (HTTP {response.status})")
            return 0
    except urllib.error.HTTPError as e:
        print(f"ddb-cdc translate: {submit} refused connector {result['name']}: HTTP {e.code} "
              f"{e.read().decode(errors='replace')}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
