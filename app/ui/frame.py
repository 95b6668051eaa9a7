"""The frame around every page: session state seeded from the URL, the sidebar, the URL kept in
step with the state, and errors shown as one-line messages."""
from __future__ import annotations

import contextlib
import logging
import math
import re
from pathlib import Path

import streamlit as st

from ltcore import LTError
from ltcore.data import DATASETS, PROFILES
from ltcore.methods import PRESETS, resolve_params
from ltcore.methods.registries import check_value
from ltcore.models import MODELS

from app.logic import state

ASSETS = Path(__file__).resolve().parents[2] / "assets"
BOUNDS = {"ratio": (1.0, 10000.0), "mu": (0.0, 1.0), "seed": (0, 2**31 - 1), "epochs": (1, 1000),
          "lr": (1e-5, 10.0), "batch_size": (1, 4096), "seeds": (1, 10),
          "sw_seeds": (1, 10), "sw_samples": (1, 64), "compare_whatif_la_tau": (0.0, 2.0),
          "compare_whatif_norm_tau": (0.0, 2.0)}
"""The ranges of the numeric widgets (a link outside them is clamped, with a warning)."""
log = logging.getLogger("ltlab.app")
_MARKDOWN = re.compile(r"([\\`\[\]<>!:$@|])")
_WWW = re.compile(r"(www)\.", re.IGNORECASE)


def plain(text) -> str:
    """`text` (a path, an error, a value from a link) escaped for Streamlit's markdown: no link,
    image, autolink, HTML, colour directive or formula can be smuggled into a message (the
    characters that start them are backslash-escaped, which markdown shows as themselves)."""
    escaped = _MARKDOWN.sub(r"\\\1", " ".join(str(text).split()))
    return _WWW.sub(r"\1\\.", escaped)


def _params_checked(given: dict, methods: list[str]) -> tuple[dict, list[str]]:
    """A link's method parameters, each checked by the core; bad or unknown ones are dropped (the
    preset's default is used) with a warning."""
    kept, problems = {}, []
    for method, params in given.items():
        if method not in PRESETS or not isinstance(params, dict):
            problems.append(f"ignored parameters for unknown method {method!r} from the link")
            continue
        good = {}
        for name, value in params.items():
            try:
                check_value(name, value)
                resolve_params(method, {**good, name: value}, required=False)
            except LTError as exc:
                problems.append(f"ignored {method} parameter {name}={value!r} from the link ({exc}); "
                                "using the preset's default")
                continue
            good[name] = value
        if good:
            kept[method] = good
    return kept, problems


def _checked(values: dict) -> tuple[dict, list[str]]:
    """Drop names the registries do not know (a link from another version), saying so."""
    problems = []
    fallback = state.defaults()
    checks = {"dataset": DATASETS.names(), "profile": list(PROFILES), "model": ["auto", *MODELS.names()]}
    for key, allowed in checks.items():
        if values[key] not in allowed:
            problems.append(f"unknown {key} '{values[key]}' in the link; using '{fallback[key]}'")
            values[key] = fallback[key]
    unknown = [m for m in values["methods"] if m not in PRESETS]
    if unknown:
        problems.append(f"unknown method(s) {', '.join(unknown)} in the link were left out")
        values["methods"] = [m for m in values["methods"] if m in PRESETS] or fallback["methods"]
    values["params"], more = _params_checked(values["params"], values["methods"])
    problems += more
    for key, (low, high) in BOUNDS.items():
        if isinstance(values[key], float) and not math.isfinite(values[key]):
            problems.append(f"{key} = {values[key]} in the link is not a number; using {fallback[key]}")
            values[key] = fallback[key]
        elif not low <= values[key] <= high:
            clamped = type(values[key])(min(max(values[key], low), high))
            problems.append(f"{key} = {values[key]} in the link is outside [{low}, {high}]; using {clamped}")
            values[key] = clamped
    return values, problems


VIEW = "_view"
"""The session_state key of the view's own copy of every FIELDS value (what code writes with `put`
and what a fragment run, which skips `init_state`, reads with `get`).

Why every keyed widget also says `persist_state="session"`: Streamlit stores a value written under
a widget's key before that widget first draws (here: `init_state` on the first page of a session)
under the key, and every later value under the widget's id only. A page switch drops the id's entry
of a widget the new page does not draw; when no write of this run is pending — a fragment run (the
Train page's live progress, the run table) compacted it away — the key's first value comes back
(issue 22: the Train form back at `ce`, 1 seed, 20 epochs). With `persist_state="session"` Streamlit
copies the widget's current value onto its key when it stops drawing, so the key always holds the
last edit, on every page."""


def init_state() -> None:
    """First run of a session: every key from the URL (else its default). Every run: a widget key
    present in session_state is the newest value (a user's edit or a write by the code) and is
    copied into the view; a key Streamlit dropped is restored from the view, so no page ever finds
    a FIELDS key missing and the URL never falls back to defaults."""
    ss = st.session_state
    if "_ready" not in ss:
        parsed, problems = state.parse_query(st.query_params.to_dict())
        values, more = _checked({**state.defaults(), **parsed})
        ss[VIEW] = dict(values)
        ss["_link_problems"] = problems + more
        ss["_ready"] = True
    view = ss[VIEW]
    for key in state.FIELDS:
        if key in ss:
            view[key] = ss[key]
        ss[key] = view[key]  # re-assigned: a widget on another page keeps its value over page changes


def put(key: str, value) -> None:
    """Change one view value from code (also inside a fragment run, which skips `init_state`)."""
    st.session_state[key] = value
    st.session_state[VIEW][key] = value


def get(key: str):
    """One view value, also during a fragment run after Streamlit dropped its widget key."""
    ss = st.session_state
    return ss[key] if key in ss else ss[VIEW][key]


def values() -> dict:
    """The current view as plain values (what `state.make_config` takes)."""
    return {key: get(key) for key in state.FIELDS}


def sync_url() -> None:
    """Write the state into the query string (only when it changed, so the URL does not flicker).
    Called before the page runs (a page that ends in `st.stop()` cannot write afterwards) and after
    it (values the page changed)."""
    wanted = state.to_query(values())
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


def load_css() -> None:
    st.html(f"<style>{(ASSETS / 'style.css').read_text()}</style>")


@st.cache_resource(show_spinner=False)
def device_name() -> str:
    """The device training uses here (GPU model or CPU)."""
    from ltcore.engine.trainer import device_label, resolve_device

    label = device_label(resolve_device("auto"))
    return "CPU" if label == "cpu" else label


def _real_ratio(values: dict) -> None:
    """The ratio the data really gives (computed by the core on the drawn subset), and the core's
    sentence when the data cannot reach the one asked for."""
    from app.ui import training_set as dataview  # the data loaders: imported on first use, not at app start

    try:
        data = dataview.longtail(values)
    except LTError:
        return  # the Data page says what is wrong with the data choice
    st.caption(f"Real ratio: **{data.actual_ratio:.3g}×** (largest class {max(data.counts)}, "
               f"smallest {min(c for c in data.counts if c > 0)})")
    if data.ratio_note:
        st.warning(data.ratio_note, icon=":material/info:")


def _lesson_data() -> dict | None:
    """The view values of the current lesson's data (lessons train on their own settings)."""
    from app.logic import lessons

    try:
        found = lessons.load()
    except (OSError, ValueError, KeyError):
        return None
    number = get("lesson")
    config = found[number - 1].configs()[0] if 1 <= number <= len(found) else None
    if config is None:
        return None
    return {**values(), "dataset": config.dataset, "data_path": config.data_path, "profile": config.profile,
            "ratio": config.ratio, "mu": config.minority_fraction, "seed": config.seed}


def sidebar(page_title: str = "") -> None:
    """Data set, imbalance ratio (asked and real) and device: always visible. On Learn the lesson's
    own data is shown, since lessons do not use the view's settings."""
    with st.sidebar:
        lesson = _lesson_data() if page_title == "Learn" else None
        if lesson is not None:
            st.markdown(f"**This lesson's data:** `{lesson['dataset']}`, profile `{lesson['profile']}`, "
                        f"ρ = {lesson['ratio']:g}")
            _real_ratio(lesson)
            st.caption("Lessons use their own settings; the data set and ρ of Data and Train are unchanged.")
        else:
            st.selectbox("Data set", DATASETS.names(), persist_state="session", key="dataset",
                         help="Registered data sets; `digits` and `gaussians` need no download.")
            st.caption(DATASETS.get(get("dataset")).description)
            st.number_input("Imbalance ratio ρ", *BOUNDS["ratio"], step=10.0, persist_state="session", key="ratio",
                            help="n_max / n_min of the training set (1 = balanced).")
            if page_title in ("Compare", "Geometry"):
                st.caption("Runs keep the data they were trained on: this ρ applies to Data and Train.")
            else:
                _real_ratio(values())
        st.caption(f"Device: **{device_name()}**")
        for problem in st.session_state.get("_link_problems", []):
            st.warning(plain(problem))


@contextlib.contextmanager
def guard():
    """Show an LTError as its message (it says what to change); anything else as one line."""
    try:
        yield
    except LTError as exc:
        st.error(plain(exc))
        st.stop()
    except Exception as exc:  # never show a traceback to the user; keep it in the server log
        log.exception("unexpected error")
        st.error(plain(f"unexpected error: {type(exc).__name__}: {exc}"))
        st.stop()
