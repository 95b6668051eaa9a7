"""The bin of deleted runs (issue 22, item 2): hidden from every view at once, restorable (Undo),
deleted from the store for good once the session that deleted it has ended."""
from apphelpers import train_into

from app.logic import memo
from app.ui import jobs, trash
from ltcore import Config


def test_a_binned_run_is_hidden_restorable_and_deleted_for_good_once_its_session_ends(tmp_path, monkeypatch):
    from ltcore.runs import RunStore

    monkeypatch.setenv("LTLAB_DATA", str(tmp_path))
    store = RunStore()
    rid = train_into(store, Config(dataset="gaussians", ratio=10, epochs=1, batch_size=256))
    memo.clear_all()
    listed = lambda: [row["run_id"] for row in jobs.list_runs()]  # noqa: E731
    assert listed() == [rid]
    trash.put([rid])
    assert listed() == [] and not jobs.any_runs() and store.get(rid) is not None   # hidden, not deleted
    assert trash.restore([rid]) == [rid] and listed() == [rid]                     # Undo
    trash.put([rid])
    monkeypatch.setattr(trash, "_alive", lambda session: False)                   # its session ended
    monkeypatch.setattr(trash, "_SWEPT", [float("-inf")])
    assert listed() == [] and store.get(rid) is None and trash.hidden() == set()
