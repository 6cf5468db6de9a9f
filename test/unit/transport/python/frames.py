"""Deterministic test frames, identical to testFrame() in ../helpers.ts."""
import numpy as np


def expected(seed, dtype, shape):
    """Pixel k is (7 k + 13 seed) % 100, -50 for signed ints, +0.25 for floats."""
    dtype = np.dtype(dtype)
    v = (np.arange(shape[0] * shape[1], dtype=np.int64) * 7 + seed * 13) % 100
    if dtype.kind == 'f':
        v = v + 0.25
    elif dtype.kind == 'i':
        v = v - 50
    return v.astype(dtype).reshape(shape)
