"""The advanced editor: a preset's hyper-parameters and slots (loss, sampler, classifier) as
widgets; only values that differ from the preset's defaults go into the config and the URL."""
from __future__ import annotations

import json

import streamlit as st

from ltcore.methods import CLASSIFIERS, LOSSES, PRESETS, SAMPLERS

SLOTS = {"loss": LOSSES, "sampler": SAMPLERS, "classifier": CLASSIFIERS}


def _widget(method: str, name: str, default, current):
    key = f"param_{method}_{name}"
    label = name
    registry = SLOTS.get(name)
    if isinstance(default, bool):
        return st.checkbox(label, value=bool(current), key=key)
    if isinstance(default, int):
        return st.number_input(label, value=int(current), step=1, key=key)
    if isinstance(default, float):
        return st.number_input(label, value=float(current), format="%g", key=key)
    if isinstance(default, str) and registry is not None and default in registry:
        names = registry.names()
        return st.selectbox(label, names, index=names.index(current) if current in names else 0, key=key,
                            format_func=lambda n: f"{n}: {registry.get(n).description}")
    if isinstance(default, str):
        return st.text_input(label, value=str(current), key=key)
    text = st.text_input(f"{label} (JSON)", value=json.dumps(current), key=key)
    try:
        return json.loads(text)
    except ValueError:
        st.error(f"{method}.{name}: not valid JSON; keeping {json.dumps(default)}")
        return default


def method_params(methods: list[str]) -> None:
    """Expander with each chosen method's parameters; writes changes to `params` in the state."""
    tunable = [m for m in methods if m in PRESETS and PRESETS.get(m).meta.get("params")]
    if not tunable:
        return
    params = {m: dict(p) for m, p in st.session_state["params"].items()}
    changed = sum(bool(params.get(m)) for m in tunable)
    with st.expander(f"Advanced: method parameters ({changed} changed)" if changed else "Advanced: method parameters"):
        cols = st.columns(min(len(tunable), 3))
        for i, method in enumerate(tunable):
            defaults = PRESETS.get(method).meta["params"]
            with cols[i % len(cols)]:
                st.markdown(f"**{method}**")
                chosen = {}
                for name, default in defaults.items():
                    value = _widget(method, name, default, params.get(method, {}).get(name, default))
                    if value != default:
                        chosen[name] = value
                params[method] = chosen
                if chosen and st.button("Reset to the paper's defaults", key=f"reset_{method}"):
                    params[method] = {}
                    for name in defaults:
                        st.session_state.pop(f"param_{method}_{name}", None)
                    st.session_state["params"] = {m: p for m, p in params.items() if p}
                    st.rerun()
    st.session_state["params"] = {m: p for m, p in params.items() if p}
