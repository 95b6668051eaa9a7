"""`python -m ltcore ...` (see ltcore/cli.py)."""
import sys

from .cli import main

sys.exit(main())
