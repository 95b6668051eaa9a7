"""`python -m ltcore reproduce`: the published data file, the table's runs, ours vs published side by
side, an offline end-to-end smoke table that resumes from the store, and a missing CIFAR file."""
import csv
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch

from ltcore import Config
from ltcore.engine.cuda_graph import sgd_update
from ltcore.data import DATASETS
from ltcore.methods import PRESETS
from ltcore.reproduce import (CIFAR_METHODS, TABLES, format_markdown, format_preset_table, inapplicable,
                              load_published, spearman, summarise, table_configs, teacher_of,
                              threads_per_worker, trainable_presets, write_outputs)
from ltcore.runs.store import RunStore
from ltcore.version import store_run_id
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
    # the 95 % t interval over the two seeds (t_{0.975, 1} = 12.706) and the rank, equal over both seeds
    assert "| ldam_drw | 79.00 ± 1.41 (n=2) [66.29, 91.71], rank 1 | 77.03 | +1.97 |" in md
    assert "| ce | 70.00 ± 0.00 (n=2) [70.00, 70.00], rank 2 | 70.36 | -0.36 |" in md
    smoke = summarise(spec, configs, outcomes, None)
    assert all(r["published"] is None and r["delta"] is None for r in smoke)


def test_preset_table_gives_intervals_rank_ranges_paired_differences_and_above_ce():
    """Issue 20 §2: rank with its range over seeds (ties), the 95 % interval, the paired difference to
    ce marked when its interval contains 0, and the "above ce" count against the published order."""
    spec = TABLES["mnist1d-lt"]
    configs = table_configs(spec, [0, 1, 2], methods=["ce", "balanced_softmax", "focal"], ratios=[100])
    acc = {"ce": (0.70, 0.72, 0.71), "balanced_softmax": (0.78, 0.80, 0.79), "focal": (0.69, 0.73, 0.70)}
    outcomes = {c.run_id: fake_result(acc[c.method][c.seed]) for c in configs}
    rows = summarise(spec, configs, outcomes, None, "cifar10-lt")
    by = {r["method"]: r for r in rows}
    assert by["balanced_softmax"]["rank"] == "1" and by["ce"]["rank"] == "2 (2–3)" and by["focal"]["rank"] == "3 (2–3)"
    md = format_preset_table(spec, rows, "t")
    line = {m: next(x for x in md.splitlines() if f"| {m} |" in x) for m in acc}
    assert line["balanced_softmax"].startswith("| 1 | balanced_softmax |") and "+8.0 pts [+8.0, +8.0]" in md
    assert "not distinguishable" not in line["balanced_softmax"]
    assert "-0.3 pts" in line["focal"] and "not distinguishable at these seeds" in line["focal"]
    assert "Above ce: 1 of the 2 presets whose published CIFAR-10-LT value beats CE's" in md


def test_a_failed_seed_is_reported_and_left_out_of_the_mean():
    spec = TABLES["cifar10-lt"]
    configs = table_configs(spec, [0, 1], methods=["ce"], ratios=[100])
    rows = summarise(spec, configs, {configs[0].run_id: fake_result(0.7), configs[1].run_id: "out of GPU memory"},
                     "cifar10-lt")
    assert rows[0]["seeds"] == 1 and rows[0]["ours_mean"] == 70.0 and rows[0]["error"] == "out of GPU memory"
    assert "Failed runs: ce ρ=100: out of GPU memory" in format_markdown(spec, rows, "t")


@pytest.mark.slow
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


def test_mnist1d_table_is_every_preset_but_those_needing_a_users_file(monkeypatch):
    from ltcore.registry import Entry

    spec = TABLES["mnist1d-lt"]
    expected = [n for n in PRESETS.names() if "init_from" not in PRESETS.get(n).meta.get("requires", ())]
    assert "transfer" not in expected and {"kd", "bkd", "sade", "ce"} <= set(expected)
    assert list(trainable_presets()) == expected
    skipped = inapplicable(spec)  # CutMix pastes image patches: MNIST-1D has 1-D signals
    assert list(skipped) == ["cmo"] and "images" in skipped["cmo"]
    configs = table_configs(spec, [0, 1], ratios=[100])
    kept = [n for n in expected if n != "cmo"]
    assert list(dict.fromkeys(c.method for c in configs)) == kept and len(configs) == 2 * len(kept)
    assert "cmo: mixing 'cmo' works on images" in format_preset_table(spec, [], "t", skipped)
    newcomer = Entry("newcomer", PRESETS.get("ce").obj, "a preset registered later", dict(PRESETS.get("ce").meta))
    monkeypatch.setitem(PRESETS._entries, "newcomer", newcomer)
    assert trainable_presets()[-1] == "newcomer"  # joins the table without editing it


@pytest.mark.slow
def test_kd_and_bkd_distil_from_the_tables_own_ce_run_of_the_same_ratio_and_seed(tmp_path):
    configs = table_configs(TABLES["mnist1d-lt"], [0, 1], methods=["bkd", "kd"], ratios=[100, 10])
    assert [c.method for c in configs[:2]] == ["ce", "ce"]  # the teacher joins the table, first
    ce = {(c.ratio, c.seed): c for c in configs if c.method == "ce"}
    for c in configs:
        if c.method != "ce":
            assert dict(c.method_params)["kd_teacher"] == store_run_id(ce[(c.ratio, c.seed)])
    store = RunStore(tmp_path / "runs.sqlite")
    assert {k: v for k, v in teacher_of(configs, store).items()} == {
        c.run_id: ce[(c.ratio, c.seed)].run_id for c in configs if c.method != "ce"}
    with pytest.raises(Exception, match="transfer.*file of yours"):
        table_configs(TABLES["mnist1d-lt"], [0], methods=["transfer"])


def test_a_generated_unlabelled_pool_is_drawn_once_before_the_workers_only_for_crest(monkeypatch):
    from ltcore.reproduce import warm_unlabelled

    calls = []
    entry = DATASETS.get("mnist1d")
    monkeypatch.setitem(entry.meta, "unlabelled", lambda counts, seed: calls.append((counts, seed)))
    warm_unlabelled("mnist1d", table_configs(TABLES["mnist1d-lt"], [0, 1], methods=["ce", "kd"], ratios=[100]))
    assert calls == []
    if "crest" in PRESETS.names():
        warm_unlabelled("mnist1d", table_configs(TABLES["mnist1d-lt"], [0, 1], methods=["crest"], ratios=[100]))
        assert calls == [([0] * 10, 0)]


@pytest.mark.slow
def test_local_queue_starts_teachers_then_the_slowest_presets(tmp_path):
    from ltcore.reproduce import queue_order

    configs = table_configs(TABLES["mnist1d-lt"], [0], methods=["ce", "kd", "bcl", "la_loss", "kcl"], ratios=[100])
    pending = {c.run_id: c for c in configs}
    teaching = set(teacher_of(configs, RunStore(tmp_path / "runs.sqlite")).values())
    assert [pending[cid].method for cid in queue_order(pending, teaching)] == ["ce", "bcl", "kcl", "kd", "la_loss"]


def test_cpu_threads_are_split_among_the_workers():
    assert threads_per_worker(15, cores=16) == 1 and threads_per_worker(2, cores=16) == 8
    assert threads_per_worker(4, cores=2) == 1 and threads_per_worker(1, cores=16) == 16


def test_spearman_matches_scipy_with_ties():
    stats = pytest.importorskip("scipy.stats")
    a, b = [3.0, 1.0, 2.0, 2.0, 5.0], [10.0, 30.0, 20.0, 25.0, 40.0]
    assert spearman(a, b) == pytest.approx(stats.spearmanr(a, b).statistic)


@pytest.mark.slow
def test_preset_table_ranks_by_balanced_with_shot_groups_and_the_cifar_ordering(tmp_path):
    spec = TABLES["mnist1d-lt"]
    configs = table_configs(spec, [0, 1], methods=["ce", "balanced_softmax", "sade", "crt"], ratios=[100])
    acc = {"ce": 0.60, "balanced_softmax": 0.75, "sade": 0.70, "crt": 0.72}
    outcomes = {c.run_id: fake_result(acc[c.method] + 0.01 * c.seed, few=0.1 + 0.2 * c.seed) for c in configs}
    rows = summarise(spec, configs, outcomes, None, spec.reference)
    by = {r["method"]: r for r in rows}
    assert by["ce"]["reference_published"] == 70.36 and by["sade"]["reference_published"] is None
    assert by["crt"]["few_mean"] == 20.0 and by["crt"]["few_std"] == pytest.approx(14.14, abs=0.01)
    md = format_preset_table(spec, rows, "t")
    lines = [line for line in md.splitlines() if line.startswith("| ")]
    assert [line.split(" | ")[1] for line in lines[1:]] == ["balanced_softmax", "crt", "sade", "ce"]
    assert "| 1 | balanced_softmax | logit adjustment | 75.50 ± 0.71 | [69.15, 81.85] | +15.0 pts [+15.0, +15.0] | " \
           "90.00 ± 0.00 | 50.00 ± 0.00 | 20.00 ± 14.14 | 2/2 | 77.54 (#1) |" in md
    assert "CIFAR-10-LT ρ=100 published (rank)" in md and "Spearman r_s = +1.00" in md
    _, csv_path = write_outputs(rows, md, tmp_path, "t")
    row = next(csv.DictReader(open(csv_path)))
    assert {"many_std", "medium_std", "few_std", "reference_published", "family"} <= set(row)


@pytest.mark.slow
def test_cifar_table_csv_carries_the_shot_groups_with_std(tmp_path):
    spec = TABLES["cifar10-lt"]
    configs = table_configs(spec, [0, 1], methods=["ce"], ratios=[100])
    outcomes = {c.run_id: fake_result(0.7, few=0.1 * (c.seed + 1)) for c in configs}
    _, csv_path = write_outputs(summarise(spec, configs, outcomes, "cifar10-lt"), "", tmp_path, "c")
    row = next(csv.DictReader(open(csv_path)))
    assert (row["many_mean"], row["many_std"], row["few_mean"], row["few_std"]) == ("90.0", "0.0", "15.0", "7.07")


@pytest.mark.slow
@pytest.mark.skipif("mnist1d" not in DATASETS.names(), reason="the mnist1d data set is not registered yet")
def test_mnist1d_table_trains_the_teacher_first_then_kd_on_two_workers(tmp_path):
    data = tmp_path / "data"
    out = run_cli("reproduce", "mnist1d-lt", "--seeds", "0", "--epochs", "1", "--methods", "kd",
                  "--ratios", "100", "--device", "cpu", "--workers", "2", "--data-dir", str(data),
                  "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "1 wait for their teacher run" in out.stderr
    assert out.stderr.index("] ce ρ=100 seed 0") < out.stderr.index("] kd ρ=100 seed 0")
    assert "| ce | baseline | " in out.stdout and "| kd | " in out.stdout and "70.36 (#1)" in out.stdout
    cache = list((data / "mnist1d").iterdir())
    assert len(cache) == 1 and cache[0].suffix == ".pt"  # generated once, by the command, before the workers
    rows = {r["method"]: r for r in csv.DictReader(open(tmp_path / "mnist1d-lt-mnist1d_noisy-1ep.csv"))}
    assert set(rows) == {"ce", "kd"} and rows["kd"]["error"] == "" and rows["kd"]["few_std"] == "0.0"


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


def test_mnist1d_table_scales_kcl_queue_to_the_data_set_and_leaves_other_presets_at_defaults():
    from ltcore.reproduce import TABLES, table_configs

    configs = table_configs(TABLES["mnist1d-lt"], seeds=[0], methods=["ce", "kcl"], ratios=[100.0], device="cpu")
    params = {c.method: dict(c.method_params) for c in configs}
    assert params == {"ce": {}, "kcl": {"kcl_queue": 1024}}


def test_cifar10_table_on_an_image_folder_says_its_files_are_not_the_pickled_arrays(tmp_path):
    """`reproduce cifar10-lt --data-path DIR` trains on a train/ + test/ folder of CIFAR-10's classes,
    scores on its test/, and the table says the images are files, not the original arrays."""
    from PIL import Image

    from ltcore.reproduce.tables import CIFAR10_CLASSES

    root = tmp_path / "cifar-files"
    for split, n in (("train", 12), ("test", 2)):
        for k, name in enumerate(CIFAR10_CLASSES):
            (root / split / name).mkdir(parents=True)
            for i in range(n):
                Image.new("RGB", (32, 32), (25 * k, 10 * i, 0)).save(root / split / name / f"{i:04d}.jpg")
    out = run_cli("reproduce", "cifar10-lt", "--data-path", str(root), "--seeds", "0", "--epochs", "1",
                  "--methods", "ce", "--ratios", "10", "--workers", "1", "--device", "cpu",
                  "--data-dir", str(tmp_path / "store"), "--out", str(tmp_path / "out"))
    assert out.returncode == 0, out.stderr
    assert "cifar10-lt: imagefolder" in out.stdout
    assert "test set = its test/ (20 images)" in out.stdout and "10 validation images held out of train/" in out.stdout
    assert "not the original pickled cifar10 arrays" in out.stdout
    rows = list(csv.DictReader(open(tmp_path / "out" / "cifar10-lt-imagefolder-1ep.csv")))
    assert rows[0]["published"] != "" and 0 <= float(rows[0]["ours_mean"]) <= 100
    wrong = run_cli("reproduce", "cifar10-lt", "--data-path", str(root), "--dataset", "cifar10")
    assert wrong.returncode == 2 and "--data-path" in wrong.stderr
