"""Teacher mode of the Learn page: unlocked in one browser session by the key the teacher set when
starting the server (`LTLAB_TEACHER_KEY`), never by anything in a link, so a copied URL always
opens the student view. Answers the teacher reveals are shown to the whole class (every session
of this server and data folder)."""
from __future__ import annotations

import hmac
import os
import threading

import streamlit as st

from ltcore.data import default_data_dir

KEY_ENV = "LTLAB_TEACHER_KEY"
_SESSION = "_teacher_unlocked"


def configured() -> bool:
    """Whether this server was started with a teacher key (without one there is no teacher mode)."""
    return bool(os.environ.get(KEY_ENV))


def unlock(key: str) -> bool:
    """Turn teacher mode on for this session when `key` is the server's key (compared in constant time)."""
    secret = os.environ.get(KEY_ENV, "")
    ok = bool(secret) and hmac.compare_digest(key.encode(), secret.encode())
    st.session_state[_SESSION] = ok
    return ok


def lock() -> None:
    st.session_state[_SESSION] = False


def active() -> bool:
    """Teacher mode in this session (and the key still configured: a restart without it locks)."""
    return configured() and bool(st.session_state.get(_SESSION))


class _Revealed:
    """Lessons whose answer the teacher showed to the class, per data folder (thread-safe)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._shown: set = set()

    def set(self, key, shown: bool) -> None:
        with self._lock:
            (self._shown.add if shown else self._shown.discard)(key)

    def __contains__(self, key) -> bool:
        with self._lock:
            return key in self._shown


@st.cache_resource(show_spinner=False)
def _revealed() -> _Revealed:
    return _Revealed()


def _key(lesson) -> tuple:
    return str(default_data_dir()), lesson.number, lesson.title


def revealed(lesson) -> bool:
    return _key(lesson) in _revealed()


def reveal(lesson, shown: bool = True) -> None:
    _revealed().set(_key(lesson), shown)
