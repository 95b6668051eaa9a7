"""Registry-driven: every data set either loads offline with its declared shape, or explains
which files are missing (a new entry is tested for free)."""
import pytest
import torch

from ltcore.data import DATASETS, load_split
from ltcore.errors import DataMissingError, LTError


@pytest.mark.parametrize("name", DATASETS.names())
def test_every_data_set_loads_or_says_what_is_missing(name, tmp_path):
    entry = DATASETS.get(name)
    assert entry.description and entry.meta.get("kind") in ("image", "vector")
    if entry.meta.get("offline"):
        split = load_split(name, tmp_path)
        assert tuple(split.x_train.shape[1:]) == tuple(entry.meta["shape"])
        assert split.num_classes == entry.meta["num_classes"]
        test_counts = torch.bincount(split.y_test, minlength=split.num_classes)
        assert len(set(test_counts.tolist())) == 1, "the test set must be balanced"
    elif entry.meta.get("needs_path"):
        with pytest.raises(LTError, match="folder"):
            load_split(name, tmp_path, path=str(tmp_path / "missing"))
    else:
        with pytest.raises(DataMissingError) as info:
            load_split(name, tmp_path)
        assert str(tmp_path) in str(info.value)
