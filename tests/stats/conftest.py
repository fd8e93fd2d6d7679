"""Fixtures for the drift-statistics tests: fixed generators and prepared sample pairs."""

from __future__ import annotations

import numpy as np
import pytest

from monitorkit.stats import prepare_numeric


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240611)


@pytest.fixture
def normal_pair(rng):
    """Raw (unsorted) reference and current samples with a small shift, and their prepared forms."""
    reference_raw = rng.normal(0.0, 1.0, 400)
    current_raw = rng.normal(0.3, 1.2, 300)
    return reference_raw, current_raw, prepare_numeric(reference_raw), prepare_numeric(current_raw)
