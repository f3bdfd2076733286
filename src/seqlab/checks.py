"""Argument checks shared by every constructor that takes numbers from a user.

A learning rate of -1 or NaN, a window of 0 or a dimension of 2.5 must fail where they are given,
with the name of the argument, what was passed and what is allowed, never after a long run that
silently trained nothing. The messages name the Python argument; the command line maps them to
its options (``seqlab.cli.embed_train``).
"""

from __future__ import annotations

import math
import numbers


def check_int(name: str, value: object, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an int within ``[low, high]``; ``ValueError`` naming ``name`` otherwise.

    Booleans, floats with a fraction, NaN and strings are refused (``2.0`` is accepted as 2).

    Examples
    --------
    >>> check_int("window", 5, low=1)
    5
    >>> check_int("window", 0, low=1)
    Traceback (most recent call last):
    ...
    ValueError: window=0: pass an integer >= 1
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name}={value!r}: pass an integer{_bounds(low, high)}")
    if not math.isfinite(value) or int(value) != value:
        raise ValueError(f"{name}={value!r}: pass an integer{_bounds(low, high)}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name}={value}: pass an integer{_bounds(low, high)}")
    return value


def check_number(
    name: str,
    value: object,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
) -> float:
    """``value`` as a finite float within the bounds; ``ValueError`` naming ``name`` otherwise.

    ``low_open=True`` excludes ``low`` itself (``> 0`` instead of ``>= 0``). NaN and ±inf are
    always refused: no bound makes them meaningful for a hyperparameter.

    Examples
    --------
    >>> check_number("alpha", 0.025, low=0, low_open=True)
    0.025
    >>> check_number("alpha", float("nan"), low=0, low_open=True)
    Traceback (most recent call last):
    ...
    ValueError: alpha=nan: pass a finite number > 0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name}={value!r}: pass a finite number{_bounds(low, high, low_open)}")
    value = float(value)
    below = low is not None and (value <= low if low_open else value < low)
    above = high is not None and value > high
    if not math.isfinite(value) or below or above:
        raise ValueError(f"{name}={value!r}: pass a finite number{_bounds(low, high, low_open)}")
    return value


def _bounds(low, high, low_open: bool = False) -> str:
    if low is not None and high is not None:
        return f" in {'(' if low_open else '['}{low:g}, {high:g}]"
    if low is not None:
        return f" {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f" <= {high:g}"
    return ""
