"""The Compare page's reproduced tables: the MNIST-1D-LT table's shot groups and reference column
show; an older CSV (no shot-group std, no reference) still reads."""
from app.compare.reproduced import table_frame

BASE = {"ratio": "100.0", "method": "ce", "epochs": "60", "seeds": "3", "ours_mean": "56.3", "ours_std": "1.2",
        "published": "", "delta": "", "many_mean": "97.1", "few_mean": "6.5", "source": ""}


def test_mnist1d_table_shows_shot_groups_and_the_reference_column():
    row = {**BASE, "medium_mean": "40.0", "few_std": "2.0", "reference": "cifar10-lt ρ=100",
           "reference_published": "70.36"}
    df = table_frame([row, {**row, "method": "sade", "reference_published": ""}])
    assert df["reference published %"].tolist()[0] == 70.36 and df["reference published %"].isna().tolist()[1]
    assert df["few-shot %"].tolist() == [6.5, 6.5] and df["medium-shot %"].tolist() == [40.0, 40.0]


def test_an_older_csv_without_the_new_columns_still_reads():
    df = table_frame([BASE])
    assert "reference published %" not in df.columns and "few ± std" not in df.columns
    assert df["ours %"].tolist() == [56.3] and df["many-shot %"].tolist() == [97.1]
