"""`reproduce --backend ray`: a table's runs as Ray Tune trials on a (loopback) cluster, into the same
store, so a second invocation trains nothing and prints the same table."""
import csv
import os

import pytest

from ltcore.cli import main
from ltcore.runs import RunStore

pytestmark = pytest.mark.slow


def test_a_table_trains_on_ray_into_the_store_and_resumes_from_it(ray_address, tmp_path, capsys):
    args = ["reproduce", "mnist1d-lt", "--dataset", "digits", "--methods", "ce,balanced_softmax", "--ratios", "10",
            "--seeds", "0", "--epochs", "2", "--backend", "ray", "--address", ray_address]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert "0 of 2 runs already in the store; training 2 as Ray trials at " + ray_address in capsys.readouterr().err
    store = RunStore()
    runs = store.list_runs()
    assert len(runs) == 2 and {r["status"] for r in runs} == {"done"}
    for row in runs:
        assert store.history(row["run_id"])[-1]["worker"]["pid"] != os.getpid()  # trained in a Ray worker
    (path,) = (tmp_path / "a").glob("*.csv")
    with open(path, newline="") as fh:
        table = {r["method"]: r for r in csv.DictReader(fh)}
    assert set(table) == {"ce", "balanced_softmax"} and all(r["seeds"] == "1" and r["ours_mean"] for r in table.values())
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    assert "2 of 2 runs already in the store; training 0" in capsys.readouterr().err
    assert [r["finished"] for r in store.list_runs()] == [r["finished"] for r in runs]  # nothing re-trained
    assert (tmp_path / "b" / path.name).read_text() == path.read_text()
