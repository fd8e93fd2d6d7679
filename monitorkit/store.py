"""Versioned report folders: ``reports/<model>/<UTC stamp>-<8 hex>/`` and ``index.jsonl``.

Nothing here ever overwrites a file. A run folder is created with an exclusive ``mkdir`` under a
name that carries the UTC second and 32 random bits, so two runs started in the same second get
two folders. Files are written to a temporary name in the same folder and renamed into place
(atomic on POSIX), and refuse to replace an existing file. ``index.jsonl`` gets one JSON line per
run, appended under an exclusive lock so that concurrent runs never interleave lines. A writer
killed in the middle of an append (SIGKILL, out of memory) can leave part of a line at the end
of the file: readers skip that unfinished last line, and the next append cuts it off first, so
the index always reads as the runs whose lines were completely written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from monitorkit.errors import InputError, OutputExistsError, ReportFormatError

INDEX_NAME = "index.jsonl"
SUMMARY_NAME = "summary.json"
NOTEBOOK_NAME = "report.ipynb"
PARTIAL_NOTEBOOK_NAME = "report.partial.ipynb"  # the notebook while it executes
HTML_NAME = "report.html"
LOG_NAME = "run.log"

_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_RUN_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{8}$")


def check_model_name(model: str) -> str:
    """Return ``model`` if it is usable as a folder name, else raise :class:`InputError`."""
    if not isinstance(model, str) or not _MODEL_NAME.match(model) or ".." in model:
        raise InputError(
            f"model name {model!r} cannot be used as a report folder name; use letters, digits, "
            "'.', '_' and '-' (starting with a letter or digit, at most 128 characters)."
        )
    return model


def new_run_id(now: dt.datetime | None = None) -> str:
    """A run id: the UTC time to the second, then 8 random hex digits."""
    now = now or dt.datetime.now(dt.timezone.utc)
    return f"{now.astimezone(dt.timezone.utc):%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def create_run_folder(root: str | os.PathLike, model: str) -> Path:
    """Create and return a new, empty run folder ``root/model/<run id>``; never reuses one."""
    model_dir = Path(root).resolve() / check_model_name(model)
    model_dir.mkdir(parents=True, exist_ok=True)
    for _ in range(100):
        folder = model_dir / new_run_id()
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise RuntimeError(f"could not create a new run folder under {model_dir}")  # pragma: no cover


def write_atomic(path: str | os.PathLike, data: str | bytes, *, replace: bool = False) -> Path:
    """Write ``data`` to ``path`` via a temporary file and a rename.

    The file appears complete or not at all; the file and then its directory are fsynced, so
    the rename survives a power cut. Unless ``replace`` is true, an existing ``path`` is
    never replaced: :class:`~monitorkit.errors.OutputExistsError` (a ``FileExistsError``) names it.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    mode = "wb" if isinstance(data, bytes) else "w"
    try:
        # Inside the try: a failed write (disk full) leaves no temporary file behind either.
        with open(
            temporary, mode, **({} if isinstance(data, bytes) else {"encoding": "utf-8"})
        ) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if replace:
            os.replace(temporary, path)
        else:
            # link() fails if the target exists, so a concurrent writer can never be overwritten.
            try:
                os.link(temporary, path)
            except FileExistsError as exc:
                raise OutputExistsError(
                    f"{path} already exists and is kept; write to another path, or pass "
                    "overwrite=True to replace it."
                ) from exc
            os.unlink(temporary)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _sync_directory(path.parent)
    return path


def _sync_directory(directory: Path) -> None:
    """fsync a directory, so that a rename in it survives a power cut (POSIX; a no-op where
    directories cannot be opened, as on Windows)."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some file systems refuse fsync on a directory; the rename itself is done
    finally:
        os.close(descriptor)


def write_json_atomic(path: str | os.PathLike, value: Any, *, replace: bool = False) -> Path:
    return write_atomic(path, json.dumps(value, indent=2, default=str) + "\n", replace=replace)


@contextlib.contextmanager
def _locked(path: Path, mode: str, lock: int) -> Iterator[Any]:
    with open(path, mode) as f:
        fcntl.flock(f.fileno(), lock)
        try:
            yield f
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _finish_last_line(fd: int) -> bytes:
    """Make the file end with a complete line; returns what the next line must start with.

    A last line without its newline is either a record written whole but for the newline (kept:
    returns ``b"\\n"``) or the start of one whose writer was killed (cut off).
    """
    end = os.fstat(fd).st_size
    if end == 0 or os.pread(fd, 1, end - 1) == b"\n":
        return b""
    start = end
    while start > 0:  # back to the last newline, a block at a time
        block_end, start = start, max(0, start - (1 << 16))
        newline = os.pread(fd, block_end - start, start).rfind(b"\n")
        if newline >= 0:
            start += newline + 1
            break
    if _json_line(os.pread(fd, end - start, start)) is not None:
        return b"\n"
    os.ftruncate(fd, start)
    return b""


def _json_line(line: bytes) -> Any:
    try:
        return json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def append_index(model_dir: str | os.PathLike, record: dict[str, Any]) -> Path:
    """Append ``record`` as one JSON line to ``model_dir/index.jsonl`` (locked, fsynced).

    The end of a line left unfinished by a writer that was killed is cut off first.
    """
    path = Path(model_dir) / INDEX_NAME
    line = (json.dumps(record, default=str, separators=(",", ":")) + "\n").encode("utf-8")
    with _locked(path, "a+b", fcntl.LOCK_EX) as f:
        fd = f.fileno()
        remaining = memoryview(_finish_last_line(fd) + line)
        while remaining:
            remaining = remaining[os.write(fd, remaining) :]
        os.fsync(fd)
    return path


def read_index(model_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """The runs recorded in ``model_dir/index.jsonl``, oldest first.

    A last line without its newline that is not valid JSON is the start of a line whose writer
    was killed mid-append: it is not a run, and is skipped. Any other line that is not valid
    JSON (e.g. edited by hand) raises :class:`ReportFormatError` naming the line.
    """
    path = Path(model_dir) / INDEX_NAME
    if not path.exists():
        return []
    with _locked(path, "rb", fcntl.LOCK_SH) as f:  # never half of a line being appended
        lines = f.read().split(b"\n")
    if lines and _json_line(lines[-1]) is None:
        lines.pop()  # empty (the file ends with a newline), or an unfinished line
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line.decode("utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else exc.reason
            raise ReportFormatError(
                f"{path}: line {number} is not valid JSON ({reason}); remove or repair that "
                "line — the run folders themselves are unaffected."
            ) from exc
    return records


def list_models(root: str | os.PathLike) -> list[Path]:
    """Model folders under ``root`` (those holding an ``index.jsonl``), sorted by name."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / INDEX_NAME).is_file())


def is_run_id(name: str) -> bool:
    return bool(_RUN_ID.match(name))


def read_json_file(path: str | os.PathLike, what: str, fix: str = "") -> Any:
    """Parse a JSON file; unreadable or invalid files raise :class:`ReportFormatError`
    naming ``what`` it was meant to be, the place of the error and ``fix``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ReportFormatError(f"cannot read {what} '{path}': {exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportFormatError(
            f"{what} '{path}' is not valid JSON ({exc.msg} at line {exc.lineno}); the file is "
            f"corrupt or truncated{'; ' + fix if fix else ''}."
        ) from exc


def read_summary(run_folder: str | os.PathLike) -> dict[str, Any]:
    """Load ``summary.json`` of a run folder."""
    path = Path(run_folder) / SUMMARY_NAME
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(f"{run_folder} is not a report folder: it has no {SUMMARY_NAME}.") from exc
    except json.JSONDecodeError as exc:
        raise ReportFormatError(f"{path} is not valid JSON: {exc.msg}.") from exc
