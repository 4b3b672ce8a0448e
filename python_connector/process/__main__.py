"""``python -m python_connector.process``: the engine child process the plugin starts (see the package docs)."""

from __future__ import annotations

import sys

from python_connector.engine import Engine
from python_connector.process.server import run

if __name__ == "__main__":
    sys.exit(run(Engine()))
