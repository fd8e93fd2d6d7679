"""Where results came from: the git commit of the working directory."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any


def git_state(directory: Path) -> dict[str, Any] | None:
    """The git commit of ``directory`` and whether tracked files changed, or None."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(directory), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        if commit.returncode != 0:
            return None
        status = subprocess.run(
            ["git", "-C", str(directory), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return {"commit": commit.stdout.strip(), "dirty": bool(status.stdout.strip())}
