"""What a run produces: numbers for the CLI, the store and the dashboard."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .config import Config


@dataclass
class RunResult:
    """A finished (or stopped) run. `model` is the trained network, never serialised in to_dict."""

    config: Config
    status: str                       # done | stopped | failed
    device: str
    class_names: list[str]
    class_counts: list[int]
    metrics: dict                     # evaluate_logits(...) and any further test-set metrics
    history: list[dict]
    wall_seconds: float
    epochs_completed: int
    extras: dict = field(default_factory=dict)
    error: str = ""
    model: Any = field(default=None, repr=False, compare=False)

    @property
    def run_id(self) -> str:
        return self.config.run_id

    def __getattr__(self, name):
        # overall_acc, balanced_acc, per_class_acc, shot_acc ... read straight from metrics
        metrics = self.__dict__.get("metrics") or {}
        if name in metrics:
            return metrics[name]
        raise AttributeError(name)

    def to_dict(self) -> dict:
        return {
            "run_id": self.run_id,
            "config": self.config.to_dict(),
            "status": self.status,
            "device": self.device,
            "class_names": self.class_names,
            "class_counts": self.class_counts,
            **self.metrics,
            "history": self.history,
            "wall_seconds": self.wall_seconds,
            "epochs_completed": self.epochs_completed,
            "extras": self.extras,
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "RunResult":
        fixed = {"run_id", "config", "status", "device", "class_names", "class_counts", "history",
                 "wall_seconds", "epochs_completed", "extras", "error"}
        return cls(config=Config.from_dict(d["config"]), status=d["status"], device=d["device"],
                   class_names=d["class_names"], class_counts=d["class_counts"],
                   metrics={k: v for k, v in d.items() if k not in fixed}, history=d["history"],
                   wall_seconds=d["wall_seconds"], epochs_completed=d["epochs_completed"],
                   extras=d.get("extras", {}), error=d.get("error", ""))


def json_ready(obj):
    """A copy with NaN/±inf as None (JSON has no such numbers; `json.dumps` would write the
    non-standard `NaN`/`Infinity`) and tuples as lists."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
    return obj
