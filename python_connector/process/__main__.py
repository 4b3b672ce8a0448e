"""``python -m python_connector.process``: the engine child process the plugin starts (see the package docs).

The plugin passes the socket path and the secret in the environment (never on the command line, which any user
of the host can read); they are removed from it at once so that nothing the engine starts inherits them.
"""

from __future__ import annotations

import logging
import os
import sys
from importlib import metadata

from python_connector.engine import Engine
from python_connector.process.server import Server

SOCKET_ENV = "DDB_CDC_SOCKET"
SECRET_ENV = "DDB_CDC_SECRET"
# Polls of several tasks wait for the GIL; a shorter switch interval keeps them responsive (as the launcher does).
SWITCH_INTERVAL_S = 0.001


def version() -> str:
    try:
        return metadata.version("ddb-cdc-connect")
    except metadata.PackageNotFoundError:
        return "unknown (python_connector is not installed as the ddb-cdc-connect distribution)"


def main() -> int:
    path, secret = os.environ.pop(SOCKET_ENV, ""), os.environ.pop(SECRET_ENV, "")
    if not path or not secret:
        print(f"{SOCKET_ENV} and {SECRET_ENV} must be set: this module is started by the Kafka Connect plugin, "
              "not by hand", file=sys.stderr)
        return 2
    # stderr is drained into the worker's log, which adds time and context; the level leads each line.
    logging.basicConfig(stream=sys.stderr, level=os.environ.get("DDB_CDC_LOG_LEVEL", "INFO"),
                        format="%(levelname)s %(name)s: %(message)s")
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    Server(Engine(), path, secret, version()).serve()
    logging.shutdown()
    os._exit(0)  # engine threads (scans, lease renewers) must not hold the exit


if __name__ == "__main__":
    sys.exit(main())
