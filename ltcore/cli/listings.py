"""The listing commands: `python -m ltcore datasets|models|methods` print the registries."""
from __future__ import annotations

from .. import methods
from ..data import DATASETS
from ..models import MODELS


def _print_registry(registry, extra=lambda e: "") -> int:
    width = max((len(n) for n in registry.names()), default=4)
    for entry in registry.entries():
        print(f"{entry.name:<{width}}  {entry.description}{extra(entry)}")
    return 0


def cmd_datasets(args) -> int:
    return _print_registry(DATASETS, lambda e: f"  [shape {e.meta.get('shape')}, "
                           f"{'offline' if e.meta.get('offline') else 'needs files'}]")


def cmd_models(args) -> int:
    return _print_registry(MODELS)


def cmd_methods(args) -> int:
    print("Presets (python -m ltcore train --method NAME [--<param> VALUE ...]):")
    _print_registry(methods.PRESETS, lambda e: "".join(
        [f"\n    family: {e.meta['family']}; paper: {e.meta['paper']}" if e.meta.get("paper") else "",
         f"\n    params: {', '.join(f'{k}={v!r}' for k, v in e.meta.get('params', {}).items())}"
         if e.meta.get("params") else ""]))
    for slot, registry in methods.SLOTS.items():
        if len(registry):
            print(f"\nSlot --{slot} ({registry.kind}):")
            _print_registry(registry, lambda e: f"  ({e.meta['paper']})" if e.meta.get("paper") else "")
    return 0


def add_listing_parsers(sub) -> None:
    """Add `datasets`, `models` and `methods` to an argparse subparsers object."""
    sub.add_parser("datasets", help="list data sets").set_defaults(handler=cmd_datasets)
    sub.add_parser("models", help="list models").set_defaults(handler=cmd_models)
    sub.add_parser("methods", help="list method presets and slots").set_defaults(handler=cmd_methods)
