"""`python -m ltcore ...` (the commands: ltcore/cli/)."""
import sys

from .cli import main

sys.exit(main())
