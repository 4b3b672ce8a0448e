import sys

from python_connector.cli.main import main

sys.exit(main())
