"""Entry point (`make run` → `streamlit run app/main.py`): the router and the frame of every page."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # streamlit puts app/ on the path; the packages live at the root
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from app.ui import frame  # noqa: E402

PAGES = ROOT / "pages"

st.set_page_config(page_title="Long-Tail Lab", page_icon="📉", layout="wide")
frame.load_css()
frame.init_state()
page = st.navigation([
    st.Page(PAGES / "data.py", title="Data", icon=":material/bar_chart:", default=True),
    st.Page(PAGES / "train.py", title="Train", icon=":material/model_training:"),
    st.Page(PAGES / "compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page(PAGES / "sweep.py", title="Sweep", icon=":material/grid_view:"),
    st.Page(PAGES / "geometry.py", title="Geometry", icon=":material/scatter_plot:"),
    st.Page(PAGES / "learn.py", title="Learn", icon=":material/school:"),
])
frame.sidebar(page.title)
frame.sync_url()
try:
    with frame.guard():  # any error of a page is a one-line message, never a traceback
        page.run()
finally:  # also after st.stop() in a page: the URL always mirrors the view
    frame.sync_url()
