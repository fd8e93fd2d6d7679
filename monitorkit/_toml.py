"""Reading a TOML file (quality rules, alert rules) with errors that name the file."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from monitorkit.errors import InputError


def load_toml(
    path: str | os.PathLike, what: str, error: type[InputError] = InputError
) -> dict[str, Any]:
    """The tables of the TOML file ``path``; ``error`` (naming ``what`` and the file) when it
    does not exist or is not valid TOML."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise error(f"{what} '{path}' does not exist.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{what} '{path}' is not valid TOML: {exc}.") from exc
