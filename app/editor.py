"""The advanced editor: a preset's hyper-parameters and slots (loss, sampler, classifier) as
widgets; only values that differ from the preset's defaults go into the config and the URL."""
from __future__ import annotations

import json

import streamlit as st

from ltcore.methods import PRESETS
from ltcore.methods.registries import PARAMS, SLOTS


def _kind(name: str, default) -> str:
    spec = PARAMS.get(name)
    if spec is not None:
        return spec.kind
    return {bool: "bool", int: "int", float: "float", str: "str"}.get(type(default), "json")


def _widget(method: str, name: str, default, current):
    """One parameter's widget: a slot → its registry's names; numbers (optionally automatic = None)."""
    key = f"param_{method}_{name}"
    spec = PARAMS.get(name)
    help_text = spec.help if spec else None
    kind = _kind(name, default)
    if name in SLOTS:
        registry = SLOTS[name]
        names = registry.names()
        return st.selectbox(f"{name} ({registry.kind})", names, index=names.index(current) if current in names else 0,
                            key=key, help=help_text, format_func=lambda n: f"{n}: {registry.get(n).description}")
    if kind in ("int", "float"):
        if spec is not None and spec.optional:
            auto = st.checkbox(f"{name}: automatic", value=current is None, key=f"{key}_auto", help=help_text)
            if auto:
                return None
        start = current if current is not None else (default if default is not None else 0)
        if kind == "int":
            return int(st.number_input(name, value=int(start), step=1, key=key, help=help_text))
        return float(st.number_input(name, value=float(start), format="%g", key=key, help=help_text))
    if kind == "bool":
        return st.checkbox(name, value=bool(current), key=key, help=help_text)
    if kind == "str":
        return st.text_input(name, value=str(current or ""), key=key, help=help_text)
    text = st.text_input(f"{name} (JSON)", value=json.dumps(current), key=key, help=help_text)
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
                        st.session_state.pop(f"param_{method}_{name}_auto", None)
                    st.session_state["params"] = {m: p for m, p in params.items() if p}
                    st.rerun()
    st.session_state["params"] = {m: p for m, p in params.items() if p}
