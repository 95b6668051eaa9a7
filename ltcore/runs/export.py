"""Export runs for papers and spreadsheets: `runs.csv` (one row a run), `history.csv` (one row an
epoch) and `runs.json` (full results; arrays listed by name, shape and checksum, not inlined)."""
from __future__ import annotations

import csv
import json
from pathlib import Path

from ..errors import LTError
from ..result import json_ready

CONFIG_COLUMNS = ("dataset", "profile", "ratio", "seed", "model", "method", "method_params", "epochs",
                  "batch_size", "lr", "schedule")
HISTORY_COLUMNS = ("epoch", "loss", "lr", "train_acc", "test_acc", "balanced_acc", "many_acc",
                   "medium_acc", "few_acc", "seconds")


def export_runs(store, run_ids: list[str], folder: Path) -> list[Path]:
    """Write the three files for `run_ids` into `folder`; returns their paths."""
    if not run_ids:
        raise LTError("no runs to export; pass run ids (see `python -m ltcore runs list`)")
    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise LTError(f"--out {folder} is a file, not a folder; give a folder to write runs.csv, "
                      "history.csv and runs.json into")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LTError(f"cannot make the folder {folder} ({exc.strerror or exc}); give another --out") from None
    records, rows, history = [], [], []
    for run_id in run_ids:
        row = store.get(run_id)
        if row is None:
            raise LTError(f"no run {run_id!r} in the store {store.path}")
        result = store.load_result(run_id).to_dict() if row["has_result"] else {}
        arrays = _array_index(store, run_id)
        records.append({"run_id": run_id, "status": row["status"], "error": row["error"],
                        "device": row["device"], "code_version": row["code_version"],
                        "config": row["config"], "result": _strip_arrays(result), "arrays": arrays})
        rows.append(_csv_row(run_id, row, result))
        for h in store.history(run_id):
            history.append({"run_id": run_id, **{k: h.get(k, "") for k in HISTORY_COLUMNS}})
    runs_csv, history_csv, runs_json = folder / "runs.csv", folder / "history.csv", folder / "runs.json"
    try:
        _write_csv(runs_csv, rows)
        _write_csv(history_csv, history, ["run_id", *HISTORY_COLUMNS])
        runs_json.write_text(json.dumps(json_ready(records), indent=1, default=str))
    except OSError as exc:
        raise LTError(f"cannot write into {folder} ({exc.strerror or exc}); give another --out") from None
    return [runs_csv, history_csv, runs_json]


def _csv_row(run_id: str, row: dict, result: dict) -> dict:
    config = row["config"]
    shots = result.get("shot_acc") or {}
    out = {"run_id": run_id, "status": row["status"]}
    out.update({k: json.dumps(config[k]) if isinstance(config.get(k), list) else config.get(k)
                for k in CONFIG_COLUMNS})
    out.update({"overall_acc": result.get("overall_acc"), "balanced_acc": result.get("balanced_acc"),
                **{f"{g}_acc": shots.get(g) for g in ("many", "medium", "few")},
                "epochs_completed": result.get("epochs_completed"), "wall_seconds": result.get("wall_seconds"),
                "device": row["device"], "error": row["error"]})
    for i, acc in enumerate(result.get("per_class_acc") or []):
        out[f"class_{i}_acc"] = acc
    return out


def _write_csv(path: Path, rows: list[dict], columns: list[str] | None = None) -> None:
    if columns is None:
        columns = []
        for r in rows:
            columns += [k for k in r if k not in columns]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def _array_index(store, run_id: str) -> list[dict]:
    with store._connect() as db:
        rows = db.execute("SELECT key, file, sha256, dtype, shape FROM arrays WHERE run_id=?", (run_id,))
        return [{**dict(r), "shape": json.loads(r["shape"]), "path": str(store.array_dir(run_id) / r["file"])}
                for r in rows]


def _strip_arrays(obj):
    """Replace tensors/arrays by their shape (JSON stays small; the .npy files hold the numbers)."""
    if hasattr(obj, "shape") and hasattr(obj, "dtype"):
        return {"array_shape": list(obj.shape), "dtype": str(obj.dtype)}
    if isinstance(obj, dict):
        return {k: _strip_arrays(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_strip_arrays(v) for v in obj]
    return obj
