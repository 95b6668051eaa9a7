"""`python -m ltcore reproduce`: the published data file, the table's runs, ours vs published side by
side, an offline end-to-end smoke table that resumes from the store, and a missing CIFAR file."""
import csv
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch

from ltcore import Config
from ltcore.cuda_graph import sgd_update
from ltcore.data import DATASETS
from ltcore.methods import PRESETS
from ltcore.reproduce import (CIFAR_METHODS, TABLES, format_markdown, load_published, summarise,
                              table_configs)
from ltcore.runs.jobs import runs_per_gpu


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "ltcore", *args], capture_output=True, text=True, env=env)


def test_published_file_names_known_cells_with_sources():
    published = load_published()
    assert published[("cifar10-lt", 100.0, "ldam_drw")].top1 == 77.03
    assert published[("cifar100-lt", 100.0, "ldam_drw")].top1 == 42.04
    assert published[("cifar10-lt", 100.0, "ce")].top1 == 70.36
    assert published[("cifar100-lt", 100.0, "ce")].top1 == 38.32
    for (table, ratio, method), pub in published.items():
        assert table in TABLES and ratio in TABLES[table].ratios
        assert method in PRESETS.names(), method
        assert 0 < pub.top1 < 100 and pub.source and pub.checked


def test_cifar_table_is_twenty_presets_times_three_ratios_on_the_ldam_recipe():
    assert len(CIFAR_METHODS) == 20 and len(set(CIFAR_METHODS)) == 20
    configs = table_configs(TABLES["cifar10-lt"], [0, 1])
    assert len(configs) == 3 * 20 * 2
    c = configs[0]
    assert (c.dataset, c.model, c.epochs, c.batch_size, c.lr, c.weight_decay, c.warmup_epochs, c.milestones,
            c.lr_gamma, c.schedule) == ("cifar10", "resnet32", 200, 128, 0.1, 2e-4, 5, (160, 180), 0.01, "multistep")
    assert {x.ratio for x in configs} == {100.0, 50.0, 10.0} and c.eval_every == 10
    short = table_configs(TABLES["cifar10-lt"], [0], "synthetic_cifar", epochs=10, methods=["ce"], ratios=[100])
    assert len(short) == 1 and short[0].milestones == (8, 9) and short[0].epochs == 10


def test_unknown_method_is_refused_before_training():
    with pytest.raises(Exception, match="unknown method"):
        table_configs(TABLES["cifar10-lt"], [0], methods=["magic"])


def fake_result(acc, few=0.1):
    return SimpleNamespace(balanced_acc=acc, shot_acc={"many": 0.9, "medium": 0.5, "few": few}, wall_seconds=1.0)


def test_summary_puts_mean_std_beside_published_with_delta():
    spec = TABLES["cifar10-lt"]
    configs = table_configs(spec, [0, 1], methods=["ce", "ldam_drw"], ratios=[100])
    outcomes = {c.run_id: fake_result(0.70 if c.method == "ce" else 0.78 + 0.02 * c.seed) for c in configs}
    rows = summarise(spec, configs, outcomes, "cifar10-lt")
    by = {r["method"]: r for r in rows}
    assert by["ce"]["ours_mean"] == 70.0 and by["ce"]["ours_std"] == 0.0 and by["ce"]["published"] == 70.36
    assert by["ce"]["delta"] == pytest.approx(-0.36)
    assert by["ldam_drw"]["ours_mean"] == 79.0 and by["ldam_drw"]["ours_std"] == pytest.approx(1.41, abs=0.01)
    assert "Cao et al." in by["ldam_drw"]["source"]
    md = format_markdown(spec, rows, "t")
    assert "| ldam_drw | 79.00 ± 1.41 (n=2) | 77.03 | +1.97 |" in md
    smoke = summarise(spec, configs, outcomes, None)
    assert all(r["published"] is None and r["delta"] is None for r in smoke)


def test_a_failed_seed_is_reported_and_left_out_of_the_mean():
    spec = TABLES["cifar10-lt"]
    configs = table_configs(spec, [0, 1], methods=["ce"], ratios=[100])
    rows = summarise(spec, configs, {configs[0].run_id: fake_result(0.7), configs[1].run_id: "out of GPU memory"},
                     "cifar10-lt")
    assert rows[0]["seeds"] == 1 and rows[0]["ours_mean"] == 70.0 and rows[0]["error"] == "out of GPU memory"
    assert "Failed runs: ce ρ=100: out of GPU memory" in format_markdown(spec, rows, "t")


def test_offline_smoke_table_end_to_end_then_resumes_from_the_store(tmp_path):
    args = ["reproduce", "cifar10-lt", "--dataset", "synthetic_cifar", "--seeds", "0", "--epochs", "1",
            "--methods", "ce", "--ratios", "100", "--workers", "1", "--out", str(tmp_path)]
    first = run_cli(*args)
    assert first.returncode == 0, first.stderr
    assert "| ce | " in first.stdout and "No published column" in first.stdout
    rows = list(csv.DictReader(open(tmp_path / "cifar10-lt-synthetic_cifar-1ep.csv")))
    assert len(rows) == 1 and rows[0]["published"] == "" and 0 <= float(rows[0]["ours_mean"]) <= 100
    assert (tmp_path / "cifar10-lt-synthetic_cifar-1ep.md").read_text().startswith("### cifar10-lt")
    again = run_cli(*args)
    assert again.returncode == 0 and "1 of 1 runs already in the store; training 0" in again.stderr
    assert rows[0]["ours_mean"] in again.stdout


def test_missing_cifar_file_is_one_line_naming_it():
    out = run_cli("reproduce", "cifar100-lt", "--seeds", "0", "--epochs", "1", "--methods", "ce")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "cifar-100-python.tar.gz" in lines[0]


def test_a_ray_address_without_the_ray_backend_is_refused_plainly():
    out = run_cli("reproduce", "cifar10-lt", "--dataset", "synthetic_cifar", "--address", "127.0.0.1:1")
    assert out.returncode == 2 and "--backend ray" in out.stderr and len(out.stderr.strip().splitlines()) == 1


@pytest.mark.skipif("mnist1d" not in DATASETS.names(), reason="the mnist1d data set is not registered yet")
def test_mnist1d_table_runs_offline(tmp_path):
    out = run_cli("reproduce", "mnist1d-lt", "--seeds", "0", "--epochs", "1", "--methods", "ce,balanced_softmax",
                  "--ratios", "10", "--workers", "1", "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "| balanced_softmax | " in out.stdout


def test_eval_every_skips_test_passes_but_always_evaluates_the_last_epoch():
    from ltcore import train

    result = train(Config(dataset="digits", ratio=10, epochs=3, eval_every=2, device="cpu"))
    assert [h["balanced_acc"] is not None for h in result.history] == [False, True, True]
    assert result.history[0]["loss"] > 0 and result.history[0]["train_acc"] is not None


def test_eval_every_default_keeps_earlier_run_ids():
    import hashlib
    import json

    from ltcore.config import HASH_IF_CHANGED

    cfg = Config(dataset="digits")
    old = {k: v for k, v in cfg.to_dict().items() if k not in HASH_IF_CHANGED}
    blob = json.dumps(old, sort_keys=True, separators=(",", ":"))
    assert cfg.run_id == hashlib.sha256(blob.encode()).hexdigest()[:12]
    assert cfg.replace(eval_every=5).run_id != cfg.run_id


def test_graph_sgd_update_matches_torch_sgd():
    torch.manual_seed(0)
    params = [torch.randn(5, 3), torch.randn(7)]
    mine = [p.clone() for p in params]
    opt = torch.optim.SGD([p.requires_grad_() for p in params], lr=0.1, momentum=0.9, weight_decay=2e-4)
    bufs = [torch.zeros_like(p) for p in mine]
    for step in range(3):
        grads = [torch.randn_like(p) for p in params]
        for p, g in zip(params, grads):
            p.grad = g.clone()
        opt.step()
        if step == 0:  # torch starts the momentum buffer at the first gradient (+ decay)
            bufs = [(g + 2e-4 * p) for p, g in zip(mine, grads)]
            torch._foreach_sub_(mine, torch._foreach_mul(bufs, torch.tensor(0.1)))
        else:
            sgd_update(mine, grads, bufs, torch.tensor(0.1), 0.9, 2e-4)
    for p, m in zip(params, mine):
        assert torch.allclose(p.detach(), m, atol=1e-6)


def test_runs_per_gpu_from_the_environment(monkeypatch):
    monkeypatch.setenv("LTLAB_RUNS_PER_GPU", "6")
    assert runs_per_gpu() == 6
    monkeypatch.delenv("LTLAB_RUNS_PER_GPU")
    if not torch.cuda.is_available():
        assert runs_per_gpu() == 1
