"""The run store: one SQLite file (WAL) with runs, per-epoch history and results; arrays, checkpoints
and logs as files beside it. Safe for many threads and processes (every write is `BEGIN IMMEDIATE`).

Every file path kept in the store is relative to the store's folder (`stored_path` / `located`): a
copied or moved data folder is a store of its own, and nothing it does touches another folder."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import time
from pathlib import Path

from ..config import Config
from ..data import default_data_dir
from ..data.imbalance import real_ratio
from ..errors import LTError
from ..result import RunResult
from ..version import code_version, store_run_id
from .arrays import file_sha256, join_arrays, read_array, split_arrays, write_array
from .procs import pid_alive

STATUSES = ("queued", "running", "done", "stopped", "failed", "interrupted")
ACTIVE = ("queued", "running")
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, config_id TEXT NOT NULL, code_version TEXT NOT NULL, config TEXT NOT NULL,
    status TEXT NOT NULL, created REAL NOT NULL, started REAL, finished REAL, device TEXT DEFAULT '',
    error TEXT DEFAULT '', stop_requested REAL DEFAULT 0, worker_pid INTEGER, owner_pid INTEGER,
    attempts INTEGER DEFAULT 0, epoch INTEGER DEFAULT 0, checkpoint TEXT DEFAULT '',
    checkpoint_sha256 TEXT DEFAULT '');
CREATE TABLE IF NOT EXISTS history (run_id TEXT NOT NULL, epoch INTEGER NOT NULL, row TEXT NOT NULL,
    PRIMARY KEY (run_id, epoch));
CREATE TABLE IF NOT EXISTS results (run_id TEXT PRIMARY KEY, result TEXT NOT NULL, summary TEXT);
CREATE TABLE IF NOT EXISTS arrays (run_id TEXT NOT NULL, key TEXT NOT NULL, file TEXT NOT NULL,
    sha256 TEXT NOT NULL, dtype TEXT, shape TEXT, PRIMARY KEY (run_id, key));
CREATE TABLE IF NOT EXISTS tags (run_id TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (run_id, tag));
CREATE INDEX IF NOT EXISTS runs_status ON runs(status);
"""
MAX_TAG = 40
READ_WAIT = 5.0     # seconds a read waits for SQLite (WAL readers never wait for the writer)
WRITE_WAIT = 10.0   # seconds a write waits for another program's write lock before it is reported


class StoreBusy(LTError):
    """Another program holds the store's write lock for longer than WRITE_WAIT."""


class RunStore:
    """Runs by id (`<config hash>-<code version>`); `path` defaults to `<data dir>/runs.sqlite`."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path).expanduser().resolve() if path else default_data_dir().resolve() / "runs.sqlite"
        self.root = self.path.parent
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LTError(f"cannot make the folder {self.root} for the run store ({exc.strerror or exc}); "
                          "set LTLAB_DATA (or --data-dir) to a folder you can write") from None
        deadline = time.monotonic() + WRITE_WAIT
        while True:  # switching a new file to WAL does not wait for a busy peer: retry, for seconds
            try:
                return self._create()
            except StoreBusy:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _create(self) -> None:
        """WAL mode and the tables, written only when missing: opening an existing store reads it
        and never waits for another program's write lock."""
        with self._connect() as db:
            ready = db.execute("PRAGMA journal_mode").fetchone()[0] == "wal" and {
                "runs", "history", "results", "arrays", "tags"} <= {r[0] for r in db.execute(
                    "SELECT name FROM sqlite_master WHERE type='table'")} and "summary" in {
                r[1] for r in db.execute("PRAGMA table_info(results)")}
        if ready:
            return
        with self._connect(write=True) as db:
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                db.execute("PRAGMA journal_mode=WAL")
        with self._tx() as db:
            for statement in filter(str.strip, SCHEMA.split(";")):
                db.execute(statement)
            if "summary" not in {r[1] for r in db.execute("PRAGMA table_info(results)")}:
                db.execute("ALTER TABLE results ADD COLUMN summary TEXT")  # stores made before it

    # -- plumbing ---------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _connect(self, write: bool = False):
        """A connection; an unusable file (corrupt, read-only, disk full) is an LTError that says
        which file and what to do; a lock held past READ_WAIT / WRITE_WAIT is StoreBusy."""
        db = None
        wait = WRITE_WAIT if write else READ_WAIT
        try:
            db = sqlite3.connect(self.path, timeout=wait, isolation_level=None)
            db.row_factory = sqlite3.Row
            db.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
            db.execute("PRAGMA synchronous=NORMAL")
            yield db
        except sqlite3.Error as exc:
            if _locked(exc):
                raise StoreBusy(f"the run store {self.path} is busy: another program has held it locked "
                                f"for more than {wait:g} s (an open sqlite3 shell, a backup?); close it, "
                                "or try again in a moment") from None
            raise store_error(self.path, exc) from None
        finally:
            if db is not None:
                db.close()

    @contextlib.contextmanager
    def _tx(self):
        """A write transaction that takes the write lock up front (no read→write upgrade deadlocks)."""
        with self._connect(write=True) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                if db.in_transaction:  # SQLite may already have rolled back (disk full)
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _row(self, db, run_id: str):
        row = db.execute("SELECT * FROM runs WHERE run_id=?", (run_id,)).fetchone()
        return dict(row) if row else None

    def run_id_for(self, config: Config) -> str:
        return store_run_id(config)

    def log_path(self, run_id: str) -> Path:
        return self.root / "logs" / f"{run_id}.log"

    def array_dir(self, run_id: str) -> Path:
        return self.root / "arrays" / run_id

    def checkpoint_root(self, run_id: str) -> Path:
        return self.root / "checkpoints" / run_id.rsplit("-", 1)[-1]

    def stored_path(self, path: Path) -> str:
        """How the store keeps a file's path: relative to its folder (POSIX separators)."""
        path = Path(path).resolve()
        if not path.is_relative_to(self.root):
            raise LTError(f"{path} is outside the run store's folder {self.root}; the store keeps only "
                          "files inside its folder")
        return path.relative_to(self.root).as_posix()

    def located(self, stored: str) -> Path | None:
        """The file a stored path names, always inside this store's folder: relative paths join the
        folder; an absolute path (kept by older versions) keeps its part from `checkpoints/` on, as
        in a copied folder; None when it would lead outside (`..`, no `checkpoints` part)."""
        if not stored:
            return None
        parts = Path(stored).parts
        if Path(stored).is_absolute():
            if "checkpoints" not in parts:
                return None
            parts = parts[len(parts) - 1 - parts[::-1].index("checkpoints"):]
        path = (self.root / Path(*parts)).resolve()
        return path if path.is_relative_to(self.root) else None

    def checkpoint_path(self, run_id: str) -> Path | None:
        """Where the run's stored model weights are (None when it has none)."""
        row = self.get(run_id)
        return self.located(row["checkpoint"]) if row else None

    # -- reading ----------------------------------------------------------------------------------
    def get(self, run_id: str) -> dict | None:
        """The run's row (status, times, device, error, ...) with `config` parsed, or None."""
        with self._connect() as db:
            row = self._row(db, run_id)
            if row:
                row["has_result"] = db.execute("SELECT 1 FROM results WHERE run_id=?", (run_id,)).fetchone() is not None
        if row:
            row["config"] = _config_of(row)
        return row

    def config(self, run_id: str) -> Config:
        row = self.get(run_id)
        if row is None:
            raise LTError(f"no run {run_id!r} in the store {self.path}")
        if not row["config"]:
            raise LTError(f"run {run_id}: {row['error']}")
        return Config.from_dict(row["config"])

    def history(self, run_id: str) -> list[dict]:
        with self._connect() as db:
            rows = db.execute("SELECT row FROM history WHERE run_id=? ORDER BY epoch", (run_id,)).fetchall()
        return [json.loads(r[0]) for r in rows]

    def stop_requested(self, run_id: str) -> bool:
        with self._connect() as db:
            row = db.execute("SELECT stop_requested FROM runs WHERE run_id=?", (run_id,)).fetchone()
        return bool(row and row[0])

    def resolve(self, prefix: str) -> str:
        """The one run id starting with `prefix` (CLI convenience); LTError when none or several."""
        with self._connect() as db:
            ids = [r[0] for r in db.execute("SELECT run_id FROM runs WHERE run_id LIKE ? || '%' ESCAPE '\\'",
                                            (prefix.replace("%", r"\%").replace("_", r"\_"),))]
        if len(ids) != 1:
            what = "no run" if not ids else f"{len(ids)} runs ({', '.join(ids[:5])})"
            raise LTError(f"{what} match {prefix!r}; `python -m ltcore runs list` shows the ids")
        return ids[0]

    def load_result(self, run_id: str) -> RunResult:
        """The stored RunResult (arrays restored and checksum-verified); LTError when there is none."""
        with self._connect() as db:
            row = db.execute("SELECT result FROM results WHERE run_id=?", (run_id,)).fetchone()
            arrays = {r["key"]: dict(r) for r in db.execute("SELECT * FROM arrays WHERE run_id=?", (run_id,))}
        if row is None:
            raise LTError(f"run {run_id!r} has no stored result (not finished, or not in {self.path})")
        folder = self.array_dir(run_id)

        def load(key, kind):
            if key not in arrays:
                raise LTError(f"run {run_id!r} refers to a missing array {key!r}; delete it and train again")
            return read_array(folder / arrays[key]["file"], arrays[key]["sha256"], kind)
        return RunResult.from_dict(join_arrays(json.loads(row[0]), load))

    def list_runs(self, status: str | None = None, limit: int | None = None, **config_filters) -> list[dict]:
        """Run summaries, newest first; filter by status and by config fields (dataset="digits", ...)."""
        query, args = "SELECT r.*, s.summary, s.summary IS NULL AND s.result IS NOT NULL AS old FROM runs r " \
                      "LEFT JOIN results s USING (run_id)", []
        if status:
            query, args = query + " WHERE r.status=?", [status]
        with self._connect() as db:
            rows = [dict(r) for r in db.execute(query + " ORDER BY r.created DESC", args)]
            tags: dict[str, list[str]] = {}
            for run_id, tag in db.execute("SELECT run_id, tag FROM tags ORDER BY tag"):
                tags.setdefault(run_id, []).append(tag)
        out = []
        for row in rows:
            config = _config_of(row)
            if any(config.get(k) != v for k, v in config_filters.items()):
                continue
            if row["old"]:  # a result stored before summaries existed
                with self._connect() as db:
                    row["summary"] = db.execute("SELECT result FROM results WHERE run_id=?",
                                                (row["run_id"],)).fetchone()[0]
            out.append(summarize(row, config, json.loads(row["summary"]) if row["summary"] else {},
                                 tags.get(row["run_id"], [])))
            if limit and len(out) >= limit:
                break
        return out

    def load_checkpoint(self, run_id: str) -> dict:
        """The run's model state dict, checksum-verified and loaded with `weights_only=True`."""
        from ..engine.checkpoints import load_state
        row = self.get(run_id)
        if not row or not row["checkpoint"]:
            raise LTError(f"run {run_id!r} has no checkpoint in the store")
        path = self.located(row["checkpoint"])
        if path is None or not path.is_file() or file_sha256(path) != row["checkpoint_sha256"]:
            raise LTError(f"checkpoint {path or row['checkpoint']} is missing or corrupt (checksum mismatch); "
                          "train the run again")
        return load_state(path)

    def run_model(self, reference: str) -> tuple[Config, dict]:
        """(Config, model state dict) of the stored run `reference` (an id or a unique prefix): how a
        method finds another run's trained model (a distillation teacher); LTError when it has none."""
        run_id = self.resolve(reference.strip())
        return self.config(run_id), self.load_checkpoint(run_id)

    def tags(self, run_id: str) -> list[str]:
        """The run's tags, sorted."""
        with self._connect() as db:
            return [r[0] for r in db.execute("SELECT tag FROM tags WHERE run_id=? ORDER BY tag", (run_id,))]

    # -- writing ----------------------------------------------------------------------------------
    def claim(self, config: Config, owner_pid: int | None = None, force: bool = False) -> tuple[str, str]:
        """Atomically decide what a request for `config` means: ("cached" | "joined" | "queued", run_id).

        done (or failed with a result: the loss diverged) → cached; queued/running by a live process →
        joined; anything else (new, stopped, failed, interrupted, or `force` on a finished run) → queued.
        A finished result is kept until a new one replaces it (`save_result`): a rerun that never
        finishes leaves the run as it was (`mark_finished`).
        """
        run_id = self.run_id_for(config)
        with self._tx() as db:
            state = self._standing(db, run_id, force)
            if state:
                return state, run_id
            kept = self._reset(db, run_id, config, owner_pid or os.getpid())
        if not kept:
            shutil.rmtree(self.array_dir(run_id), ignore_errors=True)
        return "queued", run_id

    def standing(self, config: Config) -> tuple[str, str] | None:
        """What `claim` would answer when it would write nothing: ("cached" | "joined", run_id), read
        without the write lock; None when a claim must queue the run. Thirty students asking for a
        run that is done or in flight read one row each instead of queueing for the write lock."""
        run_id = self.run_id_for(config)
        with self._connect() as db:
            state = self._standing(db, run_id)
        return (state, run_id) if state else None

    def _standing(self, db, run_id: str, force: bool = False) -> str | None:
        """"cached" (done, or failed with a result, and not `force`), "joined" (queued/running by a
        live process) or None (new, stopped, failed, interrupted: to be queued)."""
        row = self._row(db, run_id)
        if not row:
            return None
        has_result = db.execute("SELECT 1 FROM results WHERE run_id=?", (run_id,)).fetchone()
        if (row["status"] == "done" or (row["status"] == "failed" and has_result)) and not force:
            return "cached"
        if row["status"] in ACTIVE and _alive(row):
            return "joined"
        return None

    def _reset(self, db, run_id: str, config: Config, owner_pid: int) -> bool:
        """Queue the run again; its finished result (if any) stays until replaced. True if one stays."""
        kept = db.execute("SELECT 1 FROM results WHERE run_id=?", (run_id,)).fetchone() is not None
        for table in ("history",) if kept else ("history", "results", "arrays"):  # a new attempt's own history
            db.execute(f"DELETE FROM {table} WHERE run_id=?", (run_id,))
        db.execute(
            "INSERT INTO runs (run_id, config_id, code_version, config, status, created, owner_pid) "
            "VALUES (?,?,?,?,'queued',?,?) ON CONFLICT(run_id) DO UPDATE SET status='queued', "
            "created=excluded.created, owner_pid=excluded.owner_pid, started=NULL, finished=NULL, "
            "device='', error='', stop_requested=0, worker_pid=NULL, epoch=0, "
            "checkpoint=CASE WHEN ? THEN checkpoint ELSE '' END, "
            "checkpoint_sha256=CASE WHEN ? THEN checkpoint_sha256 ELSE '' END",
            (run_id, config.run_id, run_id.rsplit("-", 1)[-1], json.dumps(config.to_dict()), time.time(),
             owner_pid, kept, kept))
        return kept

    def mark_running(self, run_id: str, worker_pid: int, force: bool = False) -> None:
        """queued → running under `worker_pid` (`force`: also replace the pid of a running row)."""
        states = "('queued','running')" if force else "('queued')"
        with self._tx() as db:
            db.execute("UPDATE runs SET status='running', started=?, worker_pid=?, "
                       "attempts=attempts+(status='queued') "
                       f"WHERE run_id=? AND status IN {states}", (time.time(), worker_pid, run_id))

    def set_device(self, run_id: str, device: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE runs SET device=? WHERE run_id=?", (device, run_id))

    def add_epoch(self, run_id: str, row: dict) -> None:
        """Record one finished epoch (readable at once by every process: live curves)."""
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO history VALUES (?,?,?)", (run_id, int(row["epoch"]), json.dumps(row)))
            db.execute("UPDATE runs SET epoch=MAX(epoch, ?) WHERE run_id=?", (int(row["epoch"]), run_id))

    def request_stop(self, run_id: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE runs SET stop_requested=? WHERE run_id=? AND stop_requested=0", (time.time(), run_id))

    def note_retry(self, run_id: str, message: str) -> None:
        """A new attempt of a running run (a Ray Tune retry after its worker died): counted, and the
        reason kept in `error` until the run ends."""
        with self._tx() as db:
            db.execute("UPDATE runs SET attempts=attempts+1, error=? WHERE run_id=?", (message, run_id))

    def mark_finished(self, run_id: str, status: str, error: str = "", only_pid: int | None = None) -> bool:
        """End a run without a new result (stopped while queued, crash, OOM, ...). With `only_pid`, only
        if the run is still active under that worker (a newer attempt is left alone). A run that
        still holds the result of an earlier attempt goes back to that result (its status, epochs
        and history), the failed attempt named in `error`. True if changed."""
        assert status in STATUSES
        condition, extra = "", []
        if only_pid is not None:
            condition, extra = " AND status IN ('queued','running') AND worker_pid=?", [only_pid]
        with self._tx() as db:
            return _end_attempt(db, run_id, status, error, condition, extra)

    def replaces(self, run_id: str, status: str) -> bool:
        """Would a new result of `status` replace what the run holds? Not when it holds a finished
        (`done`) result and the new one is not done (stopped early, diverged): a finished result is
        kept until a complete one replaces it. Ask before writing the new model's weights."""
        with self._connect() as db:
            kept = db.execute("SELECT result FROM results WHERE run_id=?", (run_id,)).fetchone()
        return status == "done" or kept is None or json.loads(kept[0]).get("status") != "done"

    def save_result(self, result: RunResult, run_id: str | None = None, checkpoint: Path | None = None) -> str:
        """Store a RunResult (history, arrays as checksummed files, optional checkpoint); returns the run id."""
        run_id = run_id or self.run_id_for(result.config)
        data, arrays = split_arrays(result.to_dict())
        folder = self.array_dir(run_id)
        generation = f"g{time.time_ns()}"  # beside the arrays of a result this one replaces
        written = {key: write_array(folder / generation, key, array) for key, array in arrays.items()}
        for w in written.values():
            w["file"] = f"{generation}/{w['file']}"
        ckpt = (self.stored_path(checkpoint), file_sha256(Path(checkpoint))) if checkpoint else ("", "")
        with self._tx() as db:
            if self._row(db, run_id) is None:
                self._reset(db, run_id, result.config, os.getpid())
            for table in ("history", "arrays"):
                db.execute(f"DELETE FROM {table} WHERE run_id=?", (run_id,))
            db.executemany("INSERT INTO history VALUES (?,?,?)",
                           [(run_id, int(h.get("epoch", i + 1)), json.dumps(h)) for i, h in enumerate(result.history)])
            db.executemany("INSERT INTO arrays VALUES (?,?,?,?,?,?)",
                           [(run_id, k, w["file"], w["sha256"], w["dtype"], json.dumps(w["shape"]))
                            for k, w in written.items()])
            db.execute("INSERT OR REPLACE INTO results VALUES (?,?,?)", (run_id, json.dumps(data), json.dumps(
                {k: data.get(k) for k in SUMMARY_KEYS})))
            db.execute("UPDATE runs SET status=?, error=?, device=?, epoch=?, finished=?, checkpoint=?, "
                       "checkpoint_sha256=? WHERE run_id=?",
                       (result.status, result.error, result.device, result.epochs_completed, time.time(),
                        *ckpt, run_id))
        # the replaced result's arrays, once the new one is stored
        for old in folder.iterdir() if folder.is_dir() else ():
            if old.name != generation:
                shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink(missing_ok=True)
        return run_id

    def tag(self, run_ids: list[str], tag: str, remove: bool = False) -> None:
        """Add `tag` to the runs (or remove it); a tag is 1–40 printable characters, no commas."""
        tag = tag.strip()
        if not tag or len(tag) > MAX_TAG or "," in tag or not tag.isprintable():
            raise LTError(f"a tag is 1–{MAX_TAG} printable characters without commas, got {tag!r}")
        with self._tx() as db:
            known = {r[0] for r in db.execute(
                f"SELECT run_id FROM runs WHERE run_id IN ({','.join('?' * len(run_ids))})", list(run_ids))}
            missing = sorted(set(run_ids) - known)
            if missing:
                raise LTError(f"no run {missing[0]!r} in the store")
            if remove:
                db.executemany("DELETE FROM tags WHERE run_id=? AND tag=?", [(r, tag) for r in run_ids])
            else:
                db.executemany("INSERT OR IGNORE INTO tags VALUES (?,?)", [(r, tag) for r in run_ids])

    def delete(self, run_id: str) -> None:
        """Remove a run with its history, result, arrays, checkpoint, stage-1 checkpoint and log;
        active runs are refused. A checkpoint another stored run also uses (a shared stage 1, the
        `ce` run that is that stage 1) is kept."""
        row = self.get(run_id)
        if row is None:
            raise LTError(f"no run {run_id!r} in the store")
        if row["status"] in ACTIVE and _alive(row):
            raise LTError(f"run {run_id} is {row['status']}; stop it before deleting it")
        with self._connect() as db:
            others = [dict(r) for r in db.execute("SELECT run_id, config, checkpoint FROM runs WHERE run_id != ?",
                                                  (run_id,))]
        with self._tx() as db:
            for table in ("history", "results", "arrays", "tags", "runs"):
                db.execute(f"DELETE FROM {table} WHERE run_id=?", (run_id,))
        shutil.rmtree(self.array_dir(run_id), ignore_errors=True)
        used = set().union(*(self._files(o["run_id"], _config_of(o), o["checkpoint"]) for o in others))
        for path in self._files(run_id, row["config"], row["checkpoint"]) - used:
            for file in (path, path.with_name(path.name + ".sha256")):
                file.unlink(missing_ok=True)
        self.log_path(run_id).unlink(missing_ok=True)

    def _files(self, run_id: str, config: dict, checkpoint: str) -> set[Path]:
        """The checkpoint files a run owns: its own and the stage-1 model it trained or reused."""
        from ..methods import stage1_checkpoint

        own = self.located(checkpoint)
        files = {own} if own else set()
        if not config:  # a damaged row: its own checkpoint only, never a guessed stage-1 file
            return files
        try:
            stage1 = stage1_checkpoint(Config.from_dict(config), self.checkpoint_root(run_id),
                                       run_id.rsplit("-", 1)[-1])
        except LTError:
            stage1 = None
        return files | ({stage1} if stage1 else set())

    def recover(self) -> list[str]:
        """Mark runs left queued/running by processes that no longer exist as `interrupted`."""
        marked = []
        with self._connect() as db:  # read first: the write lock only when there is something to mark
            active = [dict(r) for r in db.execute("SELECT * FROM runs WHERE status IN ('queued','running')")]
        if not any(not _alive(row) for row in active):
            return marked
        with self._tx() as db:
            for row in db.execute("SELECT * FROM runs WHERE status IN ('queued','running')").fetchall():
                if not _alive(dict(row)):
                    _end_attempt(db, row["run_id"], "interrupted",
                                 "the process running it ended (server restart or crash); re-run it")
                    marked.append(row["run_id"])
        return marked

    def export(self, run_ids: list[str], folder: str | Path) -> list[Path]:
        from .export import export_runs
        return export_runs(self, run_ids, Path(folder))


def _end_attempt(db, run_id: str, status: str, error: str, condition: str = "", extra=()) -> bool:
    """End the run's attempt without a new result (inside a write transaction): `status` and
    `error`, or, when an earlier result is kept, that result's status, epochs and history with the
    attempt named in the error. True if the row changed."""
    kept = db.execute("SELECT result FROM results WHERE run_id=?", (run_id,)).fetchone()
    earlier, epoch = json.loads(kept[0]) if kept else {}, None
    if kept:
        error = f"a new attempt ended {status}" + (f" ({error})" if error else "") + "; the earlier result is kept"
        status, epoch = earlier.get("status", "done"), earlier.get("epochs_completed")
    changed = db.execute("UPDATE runs SET status=?, error=?, finished=?, epoch=COALESCE(?, epoch) WHERE run_id=?"
                         + condition, [status, error, time.time(), epoch, run_id, *extra]).rowcount > 0
    if changed and kept:
        _restore_history(db, run_id, earlier.get("history") or [])
    return changed


def _config_of(row: dict) -> dict:
    """A row's stored configuration as a dict; {} (and a note in the row's error) when the row is
    damaged, so one bad row never stops a listing, `runs show` or `runs delete` of the others."""
    try:
        config = json.loads(row["config"])
    except (TypeError, ValueError):
        config = None
    if isinstance(config, dict):
        return config
    row["error"] = ("its stored configuration is damaged (not readable JSON); delete the run with "
                    f"`python -m ltcore runs delete {row['run_id']}`")
    return {}


def _restore_history(db, run_id: str, history: list[dict]) -> None:
    """The history table of a run back to the rows of its stored result."""
    db.execute("DELETE FROM history WHERE run_id=?", (run_id,))
    db.executemany("INSERT INTO history VALUES (?,?,?)",
                   [(run_id, int(h.get("epoch", i + 1)), json.dumps(h)) for i, h in enumerate(history)])


def _locked(exc: Exception) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))


def store_error(path: Path, exc: Exception) -> LTError:
    """One sentence for an sqlite failure: what is wrong with which file, and what to do."""
    text = str(exc).strip() or type(exc).__name__
    low = text.lower()
    if "not a database" in low or "malformed" in low or "corrupt" in low:
        return LTError(f"the run store {path} is damaged ({text}); move it aside (e.g. rename it to "
                       f"{path.name}.bad) so a new empty store is made, or set LTLAB_DATA (--data-dir) to "
                       "another folder")
    if "readonly" in low or "read-only" in low or "unable to open" in low or "permission" in low:
        return LTError(f"the run store {path} cannot be opened for writing ({text}); make {path.parent} "
                       "and its files writable for this user, or set LTLAB_DATA (--data-dir) to a folder "
                       "you can write")
    if "full" in low or "disk i/o" in low or "no space" in low:
        return LTError(f"the run store {path} cannot be written: the disk is full or failing ({text}); "
                       "free some space and try again")
    return LTError(f"the run store {path} cannot be used ({text}); move it aside or set LTLAB_DATA "
                   "(--data-dir) to another folder")


def _alive(row: dict) -> bool:
    """Is someone still working on an active row? running → its worker; queued → its owner process."""
    pid = row["worker_pid"] if row["status"] == "running" else row["owner_pid"]
    return bool(pid) and pid_alive(int(pid))


SUMMARY_KEYS = ("overall_acc", "balanced_acc", "shot_acc", "wall_seconds", "class_counts")
"""What a run list needs of a result, stored beside it (class_counts: the training set's real ratio)."""


def summarize(row: dict, config: dict, result: dict, tags: list[str] | None = None) -> dict:
    """One line of `runs list`: identity, status, key config fields, headline metrics and tags.
    `real_ratio` is n_max / n_min of the classes trained on (None until a result is stored): the
    ratio a `none` profile (the data's own distribution) really has, whatever `ratio` says."""
    shots = result.get("shot_acc") or {}
    counts = result.get("class_counts")
    return {
        "run_id": row["run_id"], "status": row["status"], "dataset": config.get("dataset"),
        "method": config.get("method"), "ratio": config.get("ratio"), "model": config.get("model"),
        "profile": config.get("profile"), "real_ratio": real_ratio(counts) if counts else None,
        "seed": config.get("seed"), "epoch": row["epoch"], "epochs": config.get("epochs"),
        "overall_acc": result.get("overall_acc"), "balanced_acc": result.get("balanced_acc"),
        **{f"{g}_acc": shots.get(g) for g in ("many", "medium", "few")},
        "device": row["device"], "created": row["created"], "started": row["started"],
        "finished": row["finished"], "wall_seconds": result.get("wall_seconds"), "error": row["error"],
        "code_version": row["code_version"], "attempts": row["attempts"], "tags": list(tags or []),
    }


__all__ = ["RunStore", "STATUSES", "code_version"]
