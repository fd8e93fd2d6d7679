"""One severity vocabulary for every report, rule, run and display: ``ok < warning < critical``.

>>> from monitorkit.severity import Severity
>>> Severity.worst("ok", Severity.WARNING, "ok")
<Severity.WARNING: 'warning'>
>>> Severity("critical") > "warning"
True
>>> Severity.worst()
<Severity.OK: 'ok'>
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Any


class Severity(str, Enum):
    """How bad a finding is; ordered, and equal to its plain string (``Severity.OK == "ok"``).

    ``ok`` (green): nothing to do. ``warning`` (yellow): look at it. ``critical`` (red): act
    now (a run exits 4, an alert pages). Comparisons follow that order, also against strings.
    """

    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for ok, 1 for warning, 2 for critical."""
        return _RANK[self.value]

    @classmethod
    def of(cls, value: Any) -> Severity:
        """``value`` as a :class:`Severity`; a clear error naming the three words otherwise."""
        try:
            return cls(value)
        except ValueError:
            from monitorkit.errors import InputError

            raise InputError(
                f"severity must be one of {', '.join(s.value for s in cls)}; got {value!r}."
            ) from None

    @classmethod
    def worst(cls, *severities: Any | Iterable[Any]) -> Severity:
        """The highest of the given severities (``ok`` when none): arguments or one iterable."""
        if len(severities) == 1 and not isinstance(severities[0], str):
            severities = tuple(severities[0])
        return max((cls.of(s) for s in severities), key=lambda s: s.rank, default=cls.OK)

    def _compare(self, other: Any) -> int:
        return self.rank - Severity.of(other).rank

    def __lt__(self, other: Any) -> bool:
        return self._compare(other) < 0

    def __le__(self, other: Any) -> bool:
        return self._compare(other) <= 0

    def __gt__(self, other: Any) -> bool:
        return self._compare(other) > 0

    def __ge__(self, other: Any) -> bool:
        return self._compare(other) >= 0

    __hash__ = str.__hash__

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


_RANK = {"ok": 0, "warning": 1, "critical": 2}
