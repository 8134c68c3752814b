"""The single-process reference of the bench: one OpenCV process that does what a job does to the
same file, read it, equalize it (test/support/equalize_formulas.py: OpenCV's equalizeHist, and
16-bit by the documented formula in NumPy, as OpenCV has none) and write it with the same
compression. Prints JSON: the seconds from the start of the read to the end of the write
(interpreter start-up and imports excluded), and with
--compare, whether the other file holds the same pixels. Never imports project code.

usage: opencv_equalize.py IN.tif OUT.tif COMPRESSION [--compare OTHER.tif]
"""
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

# The equalization the tests' oracle uses too (the 16-bit formula in NumPy): one copy of it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / 'test' / 'support'))
from equalize_formulas import equalize_plane  # noqa: E402

# TIFF compression tags as libtiff numbers them (OpenCV's IMWRITE_TIFF_COMPRESSION).
COMPRESSION = {'none': 1, 'lzw': 5, 'deflate': 8, 'packbits': 32773, 'zstd': 50000}


def main():
    src, dst, compression = sys.argv[1:4]
    started = time.perf_counter()
    img = cv2.imread(src, cv2.IMREAD_UNCHANGED)
    if img is None or img.ndim != 2:
        raise SystemExit(f'{src}: only single-channel images are compared')
    out = equalize_plane(img, 8 if img.dtype == np.uint8 else 16)
    if not cv2.imwrite(dst, out, [cv2.IMWRITE_TIFF_COMPRESSION, COMPRESSION[compression]]):
        raise SystemExit(f'could not write {dst}')
    result = {'seconds': time.perf_counter() - started}
    if len(sys.argv) > 5 and sys.argv[4] == '--compare':
        other = cv2.imread(sys.argv[5], cv2.IMREAD_UNCHANGED)
        result['identical'] = other is not None and bool(np.array_equal(other, out))
    print(json.dumps(result))


main()
