"""Array type names for annotations; numpy.typing is loaded by type checkers only, not on every run."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Floats: TypeAlias = npt.NDArray[np.float64]
    ArrayLike: TypeAlias = npt.ArrayLike
