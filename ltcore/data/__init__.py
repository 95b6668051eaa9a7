"""Data: imbalance profiles, the data-set registry and device-resident batching."""
from ..paths import default_data_dir
from .base import DATASETS, DataSplit, LongTailData, balanced_like, load_split, make_longtail
from .holdout import carve_validation
from .imbalance import PROFILES, class_counts, draw_subset
from . import embedded, torchvision_sets, imagefolder, mnist1d_set  # noqa: F401  (register entries)
from .device_loader import DeviceBatches

__all__ = ["DATASETS", "DataSplit", "LongTailData", "PROFILES", "DeviceBatches", "balanced_like",
           "carve_validation", "class_counts", "default_data_dir", "draw_subset", "load_split", "make_longtail"]
