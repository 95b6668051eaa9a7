"""Tags live in the run store: added, removed, listed with the runs, gone with a deleted run."""
import pytest

from ltcore import Config, LTError
from ltcore.runs import RunStore


def test_tags_are_stored_listed_and_removed_with_the_run(tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    a = store.claim(Config(seed=0), owner_pid=1)[1]
    b = store.claim(Config(seed=1), owner_pid=1)[1]
    store.mark_finished(a, "stopped")
    store.mark_finished(b, "stopped")
    store.tag([a, b], "baseline")
    store.tag([a], "fig-2")
    store.tag([a], "fig-2")                               # twice: still one tag
    assert store.tags(a) == ["baseline", "fig-2"]
    assert {r["run_id"]: r["tags"] for r in store.list_runs()} == {a: ["baseline", "fig-2"], b: ["baseline"]}
    store.tag([b], "baseline", remove=True)
    assert store.tags(b) == []
    store.delete(a)
    assert store.tags(a) == []
    for bad in ("", "a,b", "x" * 41):
        with pytest.raises(LTError, match="tag"):
            store.tag([b], bad)
    with pytest.raises(LTError, match="no run"):
        store.tag(["nope"], "x")


def test_cli_tags_runs_and_lists_them_by_tag(tmp_path, capsys):
    import argparse
    import json

    from ltcore.cli.runs import add_subparser, run_command

    store = RunStore(tmp_path / "runs.sqlite")
    a = store.claim(Config(seed=0), owner_pid=1)[1]
    b = store.claim(Config(seed=1), owner_pid=1)[1]
    parser = argparse.ArgumentParser()
    add_subparser(parser.add_subparsers(dest="command"))
    db = str(tmp_path / "runs.sqlite")
    run_command(parser.parse_args(["runs", "--db", db, "tag", "fig-1", a[:6]]))
    assert "added tag 'fig-1' to 1 run(s)" in capsys.readouterr().out
    run_command(parser.parse_args(["runs", "--db", db, "list", "--tag", "fig-1", "--json"]))
    assert [r["run_id"] for r in json.loads(capsys.readouterr().out)] == [a]
    run_command(parser.parse_args(["runs", "--db", db, "tag", "--remove", "fig-1", a]))
    assert store.tags(a) == [] and store.tags(b) == []
