"""The advanced editor: a preset's slots (sampler, loss, classifier, mixing, re-weighting,
regulariser, post-hoc, second stage) and the hyper-parameters they take, as widgets. The core's
`resolve_params` says which parameters exist for the chosen slots; only values that differ from
the preset's defaults go into the config and the URL."""
from __future__ import annotations

import streamlit as st

from ltcore import LTError
from ltcore.methods import PRESETS, resolve_params
from ltcore.methods.registries import PARAMS, SLOTS

from app.ui import frame, jobs


def _slot(method: str, slot: str, current: str) -> str:
    registry = SLOTS[slot]
    names = registry.names()
    return st.selectbox(f"{slot}", names, index=names.index(current) if current in names else 0,
                        persist_state="session", key=f"param_{method}_{slot}",
                        help=PARAMS[slot].help if slot in PARAMS else None,
                        format_func=lambda n: f"{n}: {registry.get(n).description}")


def _teacher(method: str, name: str, current: str, help_text: str | None) -> str:
    """A teacher chosen from the store's finished runs on the current data set (newest first), or
    a run id / .pt file typed in."""
    runs = jobs.store().list_runs(status="done", dataset=st.session_state.get("dataset"))
    label = {r["run_id"]: f"{r['method']} · seed {r['seed']} · {r['epochs']} epochs · balanced "
             f"{100 * (r['balanced_acc'] or 0):.1f} % · {r['run_id']}" for r in runs}
    if not runs:
        st.caption(f"{name}: no finished run on this data set yet — train one (e.g. `ce`) first, or give a file")
    options = ["", *label, *([current] if current and current not in label else [])]
    return st.selectbox(name, options, index=options.index(current or ""), persist_state="session",
                        key=f"param_{method}_{name}",
                        help=help_text, accept_new_options=True, placeholder="choose the teacher run",
                        format_func=lambda v: label.get(v, v or "— choose a finished run —"))


def _value(method: str, name: str, current):
    """A number (optionally automatic = None), a flag or a text (a teacher: a run of the store)."""
    key = f"param_{method}_{name}"
    spec = PARAMS.get(name)
    help_text = spec.help if spec else None
    if name == "kd_teacher":
        return _teacher(method, name, current, help_text)
    kind = spec.kind if spec else {bool: "bool", int: "int", float: "float"}.get(type(current), "str")
    if kind in ("int", "float"):
        if spec is not None and spec.optional:
            if st.checkbox(f"{name}: automatic", value=current is None, persist_state="session", key=f"{key}_auto",
                           help=help_text):
                return None
        start = current if current is not None else 0
        if kind == "int":
            return int(st.number_input(name, value=int(start), step=1, persist_state="session", key=key,
                                       help=help_text))
        return float(st.number_input(name, value=float(start), format="%g", persist_state="session", key=key,
                                     help=help_text))
    if kind == "bool":
        return st.checkbox(name, value=bool(current), persist_state="session", key=key, help=help_text)
    return st.text_input(name, value="" if current is None else str(current), persist_state="session", key=key,
                         help=help_text)


def _edit(method: str, given: dict) -> dict:
    """Widgets for one method; returns its parameters that differ from the preset's defaults."""
    defaults = resolve_params(method, {}, required=False)
    slots = [s for s in SLOTS if s in defaults]
    chosen = {}
    cols = st.columns(4)
    for i, slot in enumerate(slots):
        with cols[i % 4]:
            chosen[slot] = _slot(method, slot, given.get(slot, defaults[slot]))
    slot_changes = {s: v for s, v in chosen.items() if v != defaults[s]}
    try:
        current = resolve_params(method, slot_changes, required=False)
    except LTError as exc:
        st.error(frame.plain(f"{method}: {exc}"))
        return slot_changes
    unknown = sorted(set(given) - set(current))
    if unknown:
        st.warning(f"{method} takes no parameter(s) {', '.join(unknown)}: left out")
    names = [n for n in current if n not in SLOTS]
    cols = st.columns(4)
    for i, name in enumerate(names):
        with cols[i % 4]:
            chosen[name] = _value(method, name, given.get(name, current[name]))
    return {k: v for k, v in chosen.items() if k in slot_changes or v != current[k]}


def method_params(methods: list[str]) -> None:
    """One expander per chosen method, its widgets built only while it is open (a closed one keeps
    its changes in `params`); writes the changes to `params` in the session state."""
    params = {m: dict(p) for m, p in st.session_state["params"].items() if m in methods}
    for method in [m for m in methods if m in PRESETS]:
        changed = params.get(method, {})
        # a fixed label: Streamlit's expander identity includes it, so a changing one would close it
        box = st.expander(f"Advanced: {method} slots and parameters", key=f"edit_{method}", on_change="rerun")
        if not box.open:
            if changed:
                st.caption(frame.plain(f"{method}: changed from the preset: " + ", ".join(
                    f"{k} = {v}" for k, v in changed.items())))
            continue
        with box:
            st.caption(PRESETS.get(method).description)
            params[method] = _edit(method, changed)
            if params[method] and st.button("Reset to the preset", key=f"reset_{method}"):
                for key in [k for k in st.session_state if str(k).startswith(f"param_{method}_")]:
                    del st.session_state[key]
                params[method] = {}
                st.session_state["params"] = {m: p for m, p in params.items() if p}
                st.rerun()
    st.session_state["params"] = {m: p for m, p in params.items() if p}
