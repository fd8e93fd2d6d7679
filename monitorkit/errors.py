"""The monitorkit exception hierarchy.

Caller mistakes raise one of these; data problems (nulls, unseen categories, a constant
column) are findings in a report, never exceptions. Every message names the argument or
column, what was found, what was expected and how to fix it. Exceptions raised while
handling another one are chained with ``from``.
"""

from __future__ import annotations


class MonitorkitError(Exception):
    """Base class of every error monitorkit raises on purpose."""


class InputError(MonitorkitError, ValueError):
    """An input (frame, file, argument) cannot be used as given."""


class DataSourceError(InputError):
    """A path or object could not be read as a table (missing, unreadable, unknown format)."""


class DatabaseError(DataSourceError):
    """A SQL source (:func:`monitorkit.sql`) could not be read: the database is unreachable or
    refused the credentials, the query is wrong, or it returns types monitorkit cannot use.
    The message names the query and the fix, never the credentials."""


class SchemaError(InputError):
    """A table's columns are unusable: empty, duplicated, non-string names, missing columns."""


class ColumnSpecError(InputError):
    """A column role in :class:`monitorkit.ColumnSpec` does not fit the data."""


class ColumnNotFoundError(ColumnSpecError, KeyError):
    """A report was asked for a column it does not have (``drift["car_valu"]``); close names
    are suggested. A ``KeyError`` too, as for any mapping."""

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0]) if self.args else ""


class ParameterError(MonitorkitError, ValueError):
    """A template parameter is unknown or has the wrong type (command line exit code 2)."""


class TemplateError(MonitorkitError):
    """A template notebook cannot be found or has no usable ``parameters`` cell."""


class ReportFormatError(MonitorkitError, ValueError):
    """A saved report, summary or baseline is corrupt or from an unsupported schema version."""


class OutputExistsError(MonitorkitError, FileExistsError):
    """A file monitorkit would write already exists; it is never replaced unless asked."""


class MissingDependencyError(MonitorkitError, ImportError):
    """An optional package is needed; the message names the extra to install."""


def require(module: str, extra: str, purpose: str):
    """Import an optional dependency or raise :class:`MissingDependencyError` naming the extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{purpose} needs the optional package '{module}'; "
            f"install it with: pip install 'monitorkit[{extra}]'"
        ) from exc
