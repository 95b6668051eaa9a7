"""Property-based: ANY value in any Config field and ANY link query string either works or is one
LTError/ConfigError (a message) — never another exception; user text is always shown literally."""
from __future__ import annotations

import math
import re
from dataclasses import fields

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ltcore import Config, LTError

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=-2**80, max_value=2**80),
                   st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
                   st.lists(st.integers(-5, 300), max_size=3),
                   st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))
NAMES = [f.name for f in fields(Config)]


@FAST
@given(st.dictionaries(st.sampled_from(NAMES), VALUES, min_size=1, max_size=3))
def test_any_config_value_is_accepted_or_a_config_error(values):
    try:
        config = Config(**values)
    except LTError:
        return
    for f in fields(config):
        value = getattr(config, f.name)
        if isinstance(value, float):
            assert math.isfinite(value), (f.name, value)
    assert config.seed >= 0 and config.epochs >= 1 and config.ratio >= 1
    try:
        config.validate()
    except LTError:
        pass
    assert Config.from_dict(config.to_dict()) == config      # what is stored reads back the same


LINK_TEXT = st.one_of(st.text(max_size=30), st.sampled_from(
    ["nan", "inf", "-inf", "1e999", "-1", str(2**70), "0", "1e-30", '{"focal": {"gamma": "abc"}}',
     '{"ce": {"holdout": 1.5}}', '{"transfer": {"init_from": "/etc/passwd"}}', "[[[[", "ce,nope", "[x](http://e.vil)"]))


@FAST
@given(st.dictionaries(st.sampled_from(["dataset", "data_path", "profile", "ratio", "mu", "seed", "methods",
                                         "model", "epochs", "lr", "batch_size", "seeds", "params", "lesson"]),
                       LINK_TEXT, max_size=5))
def test_any_link_gives_in_range_values_and_a_config_or_a_message(query):
    from app.ui import frame
    from app.logic import state

    parsed, problems = state.parse_query(query)
    values, more = frame._checked({**state.defaults(), **parsed})
    for key, (low, high) in frame.BOUNDS.items():
        assert low <= values[key] <= high, (key, values[key])
    try:
        state.make_configs(values)
    except LTError:
        pass
    for message in problems + more:
        assert not re.search(r"(?<!\\)[\[\]<>`!:$@]", frame.plain(message))


@FAST
@given(st.text(max_size=60))
def test_plain_text_shows_every_character_and_starts_no_markup(text):
    from app.ui.frame import plain

    shown = plain(text)
    assert not re.search(r"(?<!\\)[\[\]<>`!:$@]", shown.replace("\\\\", ""))
    assert re.sub(r"\\(.)", r"\1", shown) == " ".join(text.split())
