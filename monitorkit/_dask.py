"""Profiling a Dask DataFrame on its cluster (needs ``pip install 'monitorkit[dask]'``).

Each partition is profiled where it lives; the partition profiles are merged pairwise as a
balanced tree of tasks, so no worker ever holds more than two profiles and the client
receives only the final one. The result equals the single-machine profile of the same rows
(within the sketches' stated error).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from monitorkit.errors import require
from monitorkit.profiles import Profile, profile_frame
from monitorkit.schema import ColumnSpec, ResolvedSpec, resolve_spec


def profile_dask(
    ddf: Any,
    spec: ColumnSpec | Mapping[str, Any] | ResolvedSpec | None,
    histogram_edges: Mapping[str, Any] | None = None,
) -> Profile:
    dask = require("dask", "dask", "Profiling a Dask DataFrame")
    if isinstance(spec, ResolvedSpec):
        resolved = spec
    else:
        # Kinds are inferred from the first partition (values) — the same rule as for files.
        resolved = resolve_spec(spec, ddf.get_partition(0).compute(), names=["data"])
    parts = [
        dask.delayed(profile_frame)(part, resolved, histogram_edges) for part in ddf.to_delayed()
    ]
    while len(parts) > 1:
        parts = [
            dask.delayed(Profile.merge)(parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i]
            for i in range(0, len(parts), 2)
        ]
    return parts[0].compute()
