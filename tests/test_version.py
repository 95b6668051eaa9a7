"""The code version in every run id: editing code that cannot change a run's numbers (the paper-table
package, the command line, the store) keeps stored runs valid; editing the training code does not."""
import shutil
from pathlib import Path

import pytest

import ltcore
from ltcore import version


@pytest.fixture
def package_copy(tmp_path, monkeypatch):
    """A copy of ltcore's sources that `source_hash` reads instead of the real package."""
    copy = tmp_path / "ltcore"
    shutil.copytree(Path(ltcore.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(version, "PACKAGE", copy)
    version.source_hash.cache_clear()
    yield copy
    version.source_hash.cache_clear()


def edited_hash(package: Path, rel: str) -> str:
    version.source_hash.cache_clear()
    with open(package / rel, "a") as fh:
        fh.write("\n# an edit\n")
    return version.source_hash()


@pytest.mark.parametrize("rel", ["reproduce/__init__.py", "reproduce/tables.py", "reproduce/report.py",
                                 "reproduce/runners.py", "reproduce/cli.py", "cli/__init__.py", "cli/options.py",
                                 "cli/output.py", "cli/sweep_command.py", "runs/store.py"])
def test_editing_the_table_driver_or_the_command_line_keeps_the_code_version(package_copy, rel):
    before = version.source_hash()
    assert edited_hash(package_copy, rel) == before


@pytest.mark.parametrize("rel", ["loop.py", "train.py", "methods/crest.py", "config.py"])
def test_editing_the_training_code_changes_the_code_version(package_copy, rel):
    before = version.source_hash()
    assert edited_hash(package_copy, rel) != before
