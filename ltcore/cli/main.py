"""Command line: `python -m ltcore train|sweep|reproduce|datasets|models|methods|runs ...`.

Bad input (ranges, unknown names, missing data, unusable paths, an unreadable store) prints one
`error:` line and exits with code 2; SIGTERM marks the run in progress `interrupted` (exit 143).

This module builds the parser from each command's module and turns every failure into one line:
`train`, `sweep`, `reproduce`, `listings` (datasets/models/methods) and `runs` are one command a
module; `options` (a configuration's flags → Config) and `output` (printed tables, progress,
output files) serve them.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys

from ..errors import LTError, Terminated
from .listings import add_listing_parsers
from .reproduce import add_parser as add_reproduce_parser
from .runs import add_subparser
from .sweep import add_sweep_parser
from .train import add_train_parser

EXIT_USAGE = 2


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2."""

    def error(self, message):
        sys.stderr.write(f"error: {message} (see `python -m ltcore {self.prog.split()[-1]} --help`)\n")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="ltcore", description="Long-Tail Lab core: train and compare "
                           "long-tailed learning methods.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    add_train_parser(sub)
    add_sweep_parser(sub)
    add_reproduce_parser(sub)
    add_listing_parsers(sub)
    add_subparser(sub)
    return parser


def _terminate(signum, frame):
    raise Terminated()


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def main(argv=None) -> int:
    """Run one command. Every failure is one `error:` line: LTError (what to change) exits 2;
    SIGTERM 143, Ctrl-C 130; a closed pipe (`runs list | head`) ends quietly."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread (tests, notebooks): keep the default
        previous = None
    try:
        code = args.handler(args)
        sys.stdout.flush()
        return code
    except LTError as exc:
        sys.stderr.write(f"error: {_one_line(exc)}\n")
        return EXIT_USAGE
    except BrokenPipeError:
        _silence_stdout()
        return 0
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted (Ctrl-C); a run in progress is marked interrupted\n")
        return 130
    except Terminated:
        sys.stderr.write("error: terminated (SIGTERM); a run in progress is marked interrupted\n")
        return 143
    except Exception as exc:  # noqa: BLE001 - a bug: one line here, the traceback with LTLAB_DEBUG=1
        if os.environ.get("LTLAB_DEBUG"):
            raise
        sys.stderr.write(f"error: internal error {type(exc).__name__}: {_one_line(exc)[:300]} "
                         "(run again with LTLAB_DEBUG=1 for the traceback, and please report it)\n")
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _silence_stdout() -> None:
    """The reader of stdout went away: send what is left to /dev/null so exit does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
