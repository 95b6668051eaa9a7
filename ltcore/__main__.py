"""`python -m ltcore ...`: the command line of the `ltcore/cli/` package."""
import sys

from .cli import main

sys.exit(main())
