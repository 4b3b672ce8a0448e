import sys

from python_connector.cli import main

sys.exit(main())
