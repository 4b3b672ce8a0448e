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
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stdout)
    if args.command == "worker":
        from python_connector import worker as launcher

        try:
            return launcher.run(args.properties, launcher.connect_classpath(args.classpath),
                                launcher.jvm_options_from_env())
        except launcher.LaunchError as e:
            print(f"ddb-cdc worker: {e}", file=sys.stderr)
            return 2
    return 2


if __name__ == "__main__":
    sys.exit(main())
