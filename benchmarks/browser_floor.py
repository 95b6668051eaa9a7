"""The floor of a page switch on this stack: Streamlit + plotly in chromium, with nothing of the lab.

A scratch app (written to a temporary folder, served with the lab's `.streamlit/config.toml`
through the same timing wrapper as `page_latency.py`) has four pages: two lines of text, one
3-point plotly chart, three such charts, and one chart of 10 lines × 20 points. The benchmark
clicks through them in the sidebar and reports, per page, the end-to-end switch time (click → the
script run is over, the chart is on screen, two animation frames), the server's script run and the
CPU time of chromium's renderer main thread. It answers "how low can a lab page go here": if one
tiny plotly chart already costs most of 300 ms, a page of the lab with three charts cannot meet it
on this machine however light its figures are.

    python benchmarks/browser_floor.py [--rounds 6] [--json out.json]
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent)]

import page_latency as pl  # noqa: E402  (its timing wrapper, tracer and browser helpers)
from page_latency import ROOT, browser  # noqa: E402

SCRATCH_APP = '''
import plotly.graph_objects as go
import streamlit as st


def tiny(key):
    st.plotly_chart(go.Figure(go.Scatter(x=[1, 2, 3], y=[1, 3, 2])), key=key)


def text():
    st.title("Text")
    with st.container(key="text"):
        st.write("Two lines of text,")
        st.write("and nothing else.")


def one_chart():
    st.title("One chart")
    tiny("c1")


def three_charts():
    st.title("Three charts")
    for key in ("c3a", "c3b", "c3c"):
        tiny(key)


def ten_lines():
    st.title("Ten lines")
    fig = go.Figure([go.Scatter(x=list(range(20)), y=[(i + 1) * j for j in range(20)], name=f"run {i}")
                     for i in range(10)])
    st.plotly_chart(fig, key="c10")


st.navigation([st.Page(text, title="Text", url_path="text", default=True),
               st.Page(one_chart, title="One chart", url_path="one"),
               st.Page(three_charts, title="Three charts", url_path="three"),
               st.Page(ten_lines, title="Ten lines", url_path="ten")]).run()
'''
PAGES = {"One chart": ".st-key-c1 .js-plotly-plot", "Three charts": ".st-key-c3c .js-plotly-plot",
         "Ten lines": ".st-key-c10 .js-plotly-plot", "Text": ".st-key-text"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6, help="visits of every page (the first is the cold one)")
    parser.add_argument("--json", type=Path, help="write the raw times here")
    args = parser.parse_args(argv)
    chromium = pl.require_chromium()
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        root = Path(tmp) / "scratch"
        (root / "app").mkdir(parents=True)
        (root / "app" / "main.py").write_text(SCRATCH_APP)
        shutil.copytree(ROOT / ".streamlit", root / ".streamlit")
        log = pl.ServerLog(Path(tmp) / "timing.log")
        url = pl.timed_server(stack, Path(tmp), root, log)
        load_before = os.getloadavg()
        out: dict = {}
        with browser.browser(chromium, Path(tmp)) as page:
            pl.TRACERS[id(page)] = pl.BrowserCPU(page)
            page.set_viewport_size({"width": 1400, "height": 900})
            page.goto(url)
            browser.settle(page, 120)
            for _ in range(args.rounds):
                for label, ready in PAGES.items():
                    pl.attempt(out, label, page, log, pl.nav(page, label), ready)
        load_after = os.getloadavg()
    print("a scratch Streamlit app (no lab code); ms; end to end: click → script run over, chart on screen, "
          "two frames")
    print(pl.load_line(load_before, load_after))
    print(f"\n{'switch to':14} {'first':>6} {'warm p50':>9} {'warm max':>9} {'server p50':>11} {'browser CPU p50':>16}")
    for label, times in out.items():
        if times["ready"]:
            s = pl.summary(times["ready"])
            server = times["server"][1:] or times["server"]
            browser_cpu = times["browser_cpu"][1:] or times["browser_cpu"]
            print(f"{label:14} {1000 * s['first']:6.0f} {1000 * s['warm_median']:9.0f} {1000 * s['warm_max']:9.0f} "
                  f"{1000 * statistics.median(server):11.0f} {1000 * statistics.median(browser_cpu):16.0f}")
    if args.json:
        args.json.write_text(json.dumps({"load_before": load_before, "load_after": load_after, "runs": out}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
