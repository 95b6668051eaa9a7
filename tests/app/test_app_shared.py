"""Process-wide memos (app.logic.memo): what 30 sessions watching one run share instead of each
reading the store and building the figure."""
import threading

from app.logic import memo as shared


def test_a_value_is_computed_once_per_key_until_forgotten():
    memo, calls = shared.Memo(), []
    build = lambda: calls.append(1) or len(calls)  # noqa: E731
    assert memo.get("a", build) == 1 and memo.get("a", build) == 1
    assert memo.get("b", build) == 2
    memo.forget("a")
    assert memo.get("a", build) == 3 and len(calls) == 3


def test_a_value_is_recomputed_once_it_is_ttl_seconds_old(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(shared.time, "monotonic", lambda: clock[0])
    memo, calls = shared.Memo(ttl=1.0), []
    build = lambda: calls.append(clock[0]) or clock[0]  # noqa: E731
    assert memo.get("s", build) == 100.0
    clock[0] = 100.9
    assert memo.get("s", build) == 100.0          # 0.9 s old: still shared
    clock[0] = 101.0
    assert memo.get("s", build) == 101.0          # 1 s old: read again
    assert calls == [100.0, 101.0]


def test_the_oldest_entry_goes_when_the_memo_is_full():
    memo = shared.Memo(max_entries=2)
    memo.get(1, lambda: "one"), memo.get(2, lambda: "two")
    memo.get(1, lambda: "again")                  # 1 is now the most recently used
    memo.get(3, lambda: "three")                  # so 2 goes
    assert memo.get(1, lambda: "new") == "one" and memo.get(2, lambda: "new") == "new"


def test_sessions_asking_at_once_wait_for_one_computation():
    memo, calls, release = shared.Memo(), [], threading.Event()

    def slow():
        calls.append(1)
        release.wait(10)
        return "figure"
    out = []
    threads = [threading.Thread(target=lambda: out.append(memo.get("k", slow))) for _ in range(8)]
    for t in threads:
        t.start()
    while not calls:
        threading.Event().wait(0.01)
    release.set()
    for t in threads:
        t.join(10)
    assert out == ["figure"] * 8 and calls == [1]
