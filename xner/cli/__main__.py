"""`python -m xner.cli`: the `xner` command."""

import sys

from xner.cli.main import main

sys.exit(main())
