"""Train one run of the store in this process: history per epoch, stop flag polled from the store,
result + checkpoint saved, and every failure recorded as one readable line (traceback in the log)."""
from __future__ import annotations

import signal
import time
import traceback
from typing import Callable

from ..engine.checkpoints import save_checkpoint
from ..errors import DataMissingError, LTError, Terminated
from ..result import RunResult
from ..engine.trainer import train
from .store import RunStore


def describe_failure(exc: BaseException, config, log_path) -> str:
    """One line telling the user what went wrong and what to change."""
    text = str(exc).strip()
    if _is_oom(exc):
        smaller = max(config.batch_size // 2, 1)
        return (f"out of GPU memory at batch size {config.batch_size}; try a smaller batch size "
                f"(e.g. {smaller}) or a smaller model")
    if isinstance(exc, (DataMissingError, LTError)):
        return text
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first} (full log: {log_path})"


def _is_oom(exc: BaseException) -> bool:
    import torch
    oom = getattr(torch.cuda, "OutOfMemoryError", ())
    return (oom and isinstance(exc, oom)) or (isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower())


class StopPoll:
    """`should_stop` for the Trainer: reads the store's stop flag at most every `every` seconds."""

    def __init__(self, store: RunStore, run_id: str, every: float = 0.5):
        self.store, self.run_id, self.every = store, run_id, every
        self.last, self.value = 0.0, False

    def __call__(self) -> bool:
        now = time.monotonic()
        if not self.value and now - self.last >= self.every:
            self.last = now
            self.value = self.store.stop_requested(self.run_id)
        return self.value


def record_event(store: RunStore, run_id: str, event: dict) -> None:
    """A Trainer event into the store: the device at start, one history row per finished epoch."""
    if event["type"] == "start":
        store.set_device(run_id, event["device"])
    elif event["type"] == "epoch":
        store.add_epoch(run_id, {k: v for k, v in event.items() if k not in ("type", "epochs")})


def execute(store: RunStore, run_id: str, save_checkpoints: bool = True,
            on_event: Callable[[dict], None] | None = None, data_dir=None,
            reraise: bool = False) -> RunResult | None:
    """Train the stored run `run_id` (already marked running). Returns the result, or None on failure
    (then the run is `failed`, `stopped` or `interrupted` with its message in the store). With
    `reraise`, SIGTERM/Ctrl-C propagate after the run is marked (the worker process then exits)."""
    config = store.config(run_id)
    extra = on_event or (lambda e: None)

    def events(event: dict) -> None:
        record_event(store, run_id, event)
        extra(event)

    should_stop = StopPoll(store, run_id)
    try:
        if should_stop():
            store.mark_finished(run_id, "stopped", "stopped before it started")
            return None
        result = train(config, on_event=events, should_stop=should_stop, data_dir=data_dir,
                       find_run=store.run_model, checkpoint_root=store.checkpoint_root(run_id),
                       save_checkpoints=save_checkpoints)
        checkpoint = None
        if save_checkpoints and result.model is not None and result.status in ("done", "stopped"):
            checkpoint = save_checkpoint(config, result.model, store.checkpoint_root(run_id))
        store.save_result(result, run_id, checkpoint)
        return result
    except (Terminated, KeyboardInterrupt) as exc:
        stopped = store.stop_requested(run_id)
        store.mark_finished(run_id, "stopped" if stopped else "interrupted",
                            "stopped by request during an epoch" if stopped else
                            f"interrupted ({type(exc).__name__}); re-run it")
        if reraise:
            raise
        return None
    except Exception as exc:  # noqa: BLE001 - every failure must reach the store as a message
        log = store.log_path(run_id)
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "a") as f:
            f.write(f"run {run_id} failed:\n{traceback.format_exc()}\n")
        store.mark_finished(run_id, "failed", describe_failure(exc, config, log))
        return None


def install_sigterm() -> None:
    """Turn SIGTERM into `Terminated` so the run is marked stopped/interrupted before the process ends."""
    def handler(signum, frame):
        raise Terminated()
    signal.signal(signal.SIGTERM, handler)
