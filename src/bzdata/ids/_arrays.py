"""Array helpers shared by the vectorised identifier makers."""

from __future__ import annotations

import numpy as np


def broadcast_len(*values: object) -> int:
    """Length of the 1-D broadcast of scalars and 1-D arrays."""
    shape = np.broadcast_shapes(*(np.shape(v) for v in values))
    if len(shape) > 1:
        raise ValueError("参数应为标量或一维数组")
    return int(shape[0]) if shape else 1


def char_matrix(values: object, width: int, n: int) -> np.ndarray:
    """ASCII strings (or ints) of exactly `width` characters as an (n, width) uint8 matrix."""
    a = np.asarray(values).astype(f"S{width + 1}").reshape(-1)
    m = np.ascontiguousarray(np.broadcast_to(a, (n,))).view(np.uint8).reshape(n, width + 1)
    # A NUL pad byte inside the first `width` columns means a short value; one after means long.
    if m[:, width].any() or not m[:, :width].all():
        raise ValueError(f"每个值应为{width}个字符")
    return m[:, :width]


def to_strings(m: np.ndarray) -> np.ndarray:
    """(n, width) uint8 ASCII matrix back to an array of Python strings."""
    m = np.ascontiguousarray(m, dtype=np.uint8)
    return m.view(f"S{m.shape[1]}").reshape(-1).astype(f"U{m.shape[1]}")
