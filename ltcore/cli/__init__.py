"""Command line: `python -m ltcore COMMAND`, one module a command (`train`, `sweep`, `reproduce`,
`listings`, `runs`) and `main`, which parses the line and turns every failure into one line."""
from .main import EXIT_USAGE, OneLineParser, build_parser, main

__all__ = ["EXIT_USAGE", "OneLineParser", "build_parser", "main"]
