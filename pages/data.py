"""Data page: the long-tailed training set of the chosen data set, profile, ratio and seed."""
import io

import streamlit as st

from app.charts import base as charts
from app.ui import training_set as dataview, frame, widgets
from app.charts.cache import freeze
from app.train import whichfix
from app.ui.plot import chart
from ltcore.data import DATASETS, PROFILES

st.title("Data: what does the long tail look like?")
widgets.first_experiment_box()

v = frame.values()
c1, c2, c3, c4 = st.columns([2, 1, 1, 1])
c1.selectbox("Imbalance profile", list(PROFILES), persist_state="session", key="profile",
             format_func=lambda p: f"{p}: {PROFILES[p]}")
c2.number_input("Seed (which images are kept)", *frame.BOUNDS["seed"], step=1, persist_state="session", key="seed")
if v["profile"] == "step":
    c3.slider("Minority fraction μ", *frame.BOUNDS["mu"], step=0.05, persist_state="session", key="mu")
log_scale = c4.toggle("Log scale", persist_state="session", key="data_log",
                      help="Counts on a log axis (ticks 1, 10, 100), both panels alike")
if v["dataset"] == "imagefolder":
    st.text_input("Image folder (one sub-folder per class)", persist_state="session", key="data_path",
                  placeholder="/path/to/images")
    if frame.folder_missing():
        st.info("Type the path of your image folder above: one sub-folder of images per class "
                "(e.g. `photos/cat/001.png`). It is shown with its own imbalance (profile `none`).",
                icon=":material/folder_open:")
        st.stop()

with frame.guard():
    data = dataview.longtail(v)
summary = dataview.view(data, "summary", lambda: dataview.summary(data))
split = data.split
m = st.columns(5)
m[0].metric("Training images", f"{summary['total']:,}")
m[1].metric("Actual ratio ρ", f"{summary['actual_ratio']:.1f}", help="largest class / smallest class")
m[2].metric("Smallest class", summary["smallest"], help=f"largest class: {summary['largest']}")
m[3].metric("Gini coefficient", f"{summary['gini']:.2f}", help="0 = balanced, → 1 = one class has everything")
m[4].metric("Test images", f"{sum(summary['test_counts']):,}",
            help=f"the test set stays balanced; {sum(summary['val_counts']):,} more images, balanced too, "
                 "form the validation split that hyper-parameters are chosen on")
for warning in split.warnings:
    st.warning(frame.plain(warning))
whichfix.button("data")

chart(dataview.view(data, ("histogram", log_scale), lambda: freeze(charts.label_histogram(
    split.classes, data.counts, summary["test_counts"], summary["groups"], log=log_scale))), key="histogram")
st.caption(f"Colours: many / medium / few-shot classes ({summary['rule']}).")
widgets.download_table(widgets.counts_table(split.classes, data.counts, summary["test_counts"],
                                            summary["groups"]), "class_counts")

if split.x_train.dim() == 4:
    def gallery() -> bytes:  # PNG, encoded once per training set (not on every rerun)
        images, labels = dataview.examples(data)
        buffer = io.BytesIO()
        charts.gallery_image(images, labels, split.classes, charts.frequency_order(data.counts)).save(buffer, "PNG")
        return buffer.getvalue()
    with st.container(key="gallery"):
        shown = min(split.num_classes, charts.GALLERY_CLASSES)
        st.image(dataview.view(data, "gallery", gallery), caption="Training images per class, most → least "
                 "frequent (up to 8; blanks: the class has no more)"
                 + (f"; the {shown} most frequent of {split.num_classes:,} classes"
                    if shown < split.num_classes else ""))
elif split.x_train.dim() == 2 and DATASETS.get(v["dataset"]).meta.get("signal"):
    def signals():
        x, y = dataview.examples(data)
        return charts.signal_gallery(x, y, split.classes, charts.frequency_order(data.counts))
    chart(dataview.view(data, "signals", signals), key="signals")
elif split.x_train.dim() == 2 and split.x_train.shape[1] == 2:
    chart(dataview.view(data, "scatter", lambda: freeze(charts.scatter_2d(
        data.x_train.numpy(), data.y_train.numpy(), split.classes))), key="scatter")
