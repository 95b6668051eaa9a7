"""The methods tables of docs/methods.md and the preset count of the README, rendered from the
registries; parts between `<!-- generated:NAME -->` markers are rewritten by
`python -m ltcore.methods.listing` (both files) or `python -m ltcore.methods.listing FILE...`."""
from __future__ import annotations

import re
import sys
from pathlib import Path

from .presets import FAMILIES
from .registries import PARAMS, PRESETS, SLOTS


def key_params(params: dict) -> str:
    """`name=default` for the hyper-parameters of a preset (slot choices left out)."""
    items = [f"`{k}={v!r}`" for k, v in params.items() if k not in SLOTS]
    return ", ".join(items) or "—"


def methods_table() -> str:
    """Markdown: one row per preset (family, name, what it does, paper, key hyper-parameters)."""
    rows = ["| family | preset | what it does | paper | key hyper-parameters (defaults) |",
            "|---|---|---|---|---|"]
    entries = sorted(PRESETS.entries(), key=lambda e: FAMILIES.index(e.meta["family"]))
    for e in entries:
        rows.append(f"| {e.meta['family']} | `{e.name}` | {e.description} | {e.meta['paper']} | "
                    f"{key_params(e.meta.get('params', {}))} |")
    slot_rows = ["", "| slot (parameter) | choices |", "|---|---|"]
    for slot, registry in SLOTS.items():
        slot_rows.append(f"| `{slot}` | {', '.join(f'`{n}`' for n in registry.names())} |")
    notes = [
        "",
        "Every preset is a composition of slots; any slot can be overridden (`--loss focal --gamma 2`,",
        "`--sampler sqrt`, `--reweight drw`, `--regularizer nc`, `--stage2 crt` ...), and every preset",
        "also takes `holdout` (a stratified fraction kept out of training, only for data without a",
        "validation split) and `init_from`",
        "(start from a saved state dict, loaded with `weights_only=True`).",
        "`drw_epoch=None` means int(0.8 × epochs): Cao et al. switch at epoch 160 of 200; shorter runs",
        "keep the same fraction. Two-stage presets (`crt`, `lws`, `ncm`, `tau_norm`) reuse the saved `ce`",
        "model of the same data/seed/model/optimiser settings instead of retraining stage 1;",
        "`tau_norm` picks τ on the data set's balanced validation split (never training or test data)",
        "unless `norm_tau` is given. Each preset's fidelity to its authors' code is measured below (Fidelity).",
    ]
    return "\n".join(rows + slot_rows + notes) + "\n"


def params_table() -> str:
    """Markdown: every method hyper-parameter with its kind, allowed range, the slot entries that
    take it and what it means (from the specs declared next to those entries)."""
    users: dict[str, list[str]] = {name: [] for name in PARAMS}
    for slot, registry in SLOTS.items():
        for entry in registry.entries():
            for name in entry.meta.get("specs", {}):
                users[name].append(f"{slot} `{entry.name}`")
    rows = ["| parameter | kind | allowed | taken by | meaning |", "|---|---|---|---|---|"]
    for name, spec in sorted(PARAMS.items()):
        if name in SLOTS:
            continue
        allowed = (spec.rule or "any") + (", or None" if spec.optional else "")
        taken = ", ".join(users[name]) or "every preset"
        rows.append(f"| `{name}` | {spec.kind} | {allowed} | {taken} | {spec.help} |")
    return "\n".join(rows) + "\n"


GENERATED = {
    "preset-count": lambda: str(len(PRESETS)),
    "methods-table": methods_table,
    "params-table": params_table,
}
"""Documentation parts rendered from the registries, each between `<!-- generated:NAME -->` and
`<!-- /generated:NAME -->` (regenerate with `python -m ltcore.methods.listing`)."""
ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = ("README.md", "docs/methods.md")
"""The files, relative to the repository root, that hold generated parts: the README the preset
count, docs/methods.md the presets and parameters tables."""
MARKED = re.compile(r"(<!-- generated:([a-z-]+) -->)(.*?)(<!-- /generated:\2 -->)", re.S)


def render_generated(text: str) -> str:
    """`text` with every marked part replaced by its current rendering (tables get their own lines)."""
    def fill(match: re.Match) -> str:
        name = match.group(2)
        if name not in GENERATED:
            raise ValueError(f"unknown generated part {name!r}; known: {', '.join(GENERATED)}")
        body = GENERATED[name]()
        if body.endswith("\n"):
            body = "\n" + body
        return f"{match.group(1)}{body}{match.group(4)}"

    return MARKED.sub(fill, text)


def main(argv=None) -> int:
    """`python -m ltcore.methods.listing [FILE...]` rewrites the generated parts of each file (by
    default the DOCUMENTS of this repository); with `--check` it only reports the files that are
    out of date (exit 1)."""
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    stale = []
    names = [a for a in args if a != "--check"] or [str(ROOT / name) for name in DOCUMENTS]
    for name in names:
        path = Path(name)
        old = path.read_text()
        new = render_generated(old)
        if new != old:
            stale.append(name)
            if not check:
                path.write_text(new)
    for name in stale:
        print(f"{'out of date' if check else 'updated'}: {name}")
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
