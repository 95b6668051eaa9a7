"""The methods table for the README and the docs, rendered from the registries."""
from __future__ import annotations

from .presets import FAMILIES
from .registries import PRESETS, SLOTS


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
        "also takes `holdout` (a stratified validation fraction kept out of training) and `init_from`",
        "(start from a saved state dict, loaded with `weights_only=True`).",
        "`drw_epoch=None` means int(0.8 × epochs): Cao et al. switch at epoch 160 of 200; shorter runs",
        "keep the same fraction. Two-stage presets (`crt`, `lws`, `ncm`, `tau_norm`) reuse the saved `ce`",
        "model of the same data/seed/model/optimiser settings instead of retraining stage 1;",
        "`tau_norm` holds out 20% of each class for picking τ unless `norm_tau` is given.",
    ]
    return "\n".join(rows + slot_rows + notes) + "\n"
