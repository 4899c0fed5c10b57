"""Old keyword names kept working for one release after a rename.

The public API renamed a few keywords so that one thing has one name in every
function and on the command line (``facilities_crs``, ``units_crs``,
``metric_crs``, ``grid_m``, ``population``).  :func:`renamed_keywords` lets a
caller still pass the old name: the value goes to the new keyword and a
:class:`DeprecationWarning` names the replacement.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def renamed_keywords(**renames: str) -> Callable[[F], F]:
    """Decorate a function so each old keyword (``old="new"``) still works, with a warning.

    Parameters
    ----------
    **renames : str
        Old keyword name -> new keyword name.

    Returns
    -------
    callable
        A decorator; the decorated function keeps its signature
        (``inspect.signature`` shows only the new names).

    Examples
    --------
    >>> import warnings
    >>> @renamed_keywords(cell_m="grid_m")
    ... def grid(*, grid_m: float = 250.0) -> float:
    ...     return grid_m
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     grid(cell_m=100.0), caught[0].category.__name__
    (100.0, 'DeprecationWarning')
    """

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for old, new in renames.items():
                if old not in kwargs:
                    continue
                if new in kwargs:
                    raise TypeError(f"{func.__name__}() got both {old}= (deprecated) and {new}=; pass only {new}=")
                warnings.warn(f"{func.__name__}({old}=...) is deprecated and will be removed in the next release; "
                              f"use {new}=...", DeprecationWarning, stacklevel=2)
                kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
