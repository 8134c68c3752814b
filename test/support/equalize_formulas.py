"""The equalization both independent references use (the tests' oracle.py and the bench's
opencv_equalize.py): OpenCV's own equalizeHist for 8-bit, and a direct NumPy transcription of the
documented 16-bit formula (README, Image math), as OpenCV has none. Never imports project code.
"""
import cv2
import numpy as np


def lut16(values):
    hist = np.bincount(values.ravel(), minlength=65536).astype(np.int64)
    present = np.nonzero(hist)[0]
    if len(present) == 0 or hist[present[0]] == values.size:
        return np.arange(65536, dtype=np.uint16)
    first = present[0]
    scale = 65535.0 / float(values.size - hist[first])
    cum = np.cumsum(hist) - hist[first]
    return np.clip(np.rint(cum.astype(np.float64) * scale), 0, 65535).astype(np.uint16)


def equalize_plane(plane, depth, clahe=None):
    """One plane equalized: through `clahe` (an OpenCV CLAHE object) when given."""
    if clahe is not None:
        return clahe.apply(np.ascontiguousarray(plane))
    if depth == 8:
        return cv2.equalizeHist(np.ascontiguousarray(plane))
    return lut16(plane)[plane]
