"""Optional TensorBoard event files: an `on_event` callback writing each epoch's scalars."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..errors import LTError

SCALARS = ("loss", "lr", "train_acc", "test_acc", "balanced_acc", "many_acc", "medium_acc", "few_acc")


def tensorboard_writer(logdir: str | Path, config) -> Callable[[dict], None]:
    """Writes `<logdir>/<method>-<config hash>/events.*` (view with `tensorboard --logdir DIR`)."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise LTError("--tensorboard needs the tensorboard package: pip install tensorboard") from None
    folder = Path(logdir).expanduser() / f"{config.method}-{config.run_id}"
    try:
        writer = SummaryWriter(log_dir=str(folder))
    except OSError as exc:  # a read-only folder, a file in the way, a full disk
        raise LTError(f"--tensorboard {logdir}: cannot write event files into {folder} "
                      f"({exc.strerror or exc}); give a folder you can write") from None

    def on_event(event: dict) -> None:
        if event.get("type") == "epoch":
            for name in SCALARS:
                value = event.get(name)
                if isinstance(value, (int, float)):
                    writer.add_scalar(name, value, int(event["epoch"]))
            for i, acc in enumerate(event.get("per_class_acc") or []):
                writer.add_scalar(f"per_class_acc/{i}", acc, int(event["epoch"]))
            writer.flush()
        elif event.get("type") == "end":
            writer.close()
    return on_event
