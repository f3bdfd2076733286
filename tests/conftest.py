"""Shared test fixtures: the dataset mirror and GPU skipping.

Dataset tests read the local mirror named by ``SEQLAB_DATA``. Outside CI a missing mirror skips
them; in CI (``CI=true``) it is an error, because CI must run them.
"""

import os
from pathlib import Path

import pytest
import torch


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The dataset mirror (``$SEQLAB_DATA``), laid out like ``../shared/data``."""
    root = os.environ.get("SEQLAB_DATA")
    if root and Path(root, "README.md").is_file():
        return Path(root)
    if os.environ.get("CI"):
        pytest.fail("CI must run the dataset tests: set SEQLAB_DATA to the mirror (../shared/data)")
    pytest.skip("dataset mirror not found: set SEQLAB_DATA to run the dataset tests")
