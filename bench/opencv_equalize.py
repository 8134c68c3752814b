"""The single-process reference of the bench: one OpenCV process that does what a job does to the
same file, read it, equalize it (OpenCV's equalizeHist; 16-bit by the same formula in NumPy, as
OpenCV has none) and write it with the same compression. Prints JSON: the seconds from the start
of the read to the end of the write (interpreter start-up and imports excluded), and with
--compare, whether the other file holds the same pixels. Never imports project code.

usage: opencv_equalize.py IN.tif OUT.tif COMPRESSION [--compare OTHER.tif]
"""
import json
import sys
import time

import cv2
import numpy as np

# TIFF compression tags as libtiff numbers them (OpenCV's IMWRITE_TIFF_COMPRESSION).
COMPRESSION = {'none': 1, 'lzw': 5, 'deflate': 8, 'packbits': 32773, 'zstd': 50000}


def lut16(values):
    hist = np.bincount(values.ravel(), minlength=65536).astype(np.int64)
    present = np.nonzero(hist)[0]
    if len(present) == 0 or hist[present[0]] == values.size:
        return np.arange(65536, dtype=np.uint16)
    first = present[0]
    scale = 65535.0 / float(values.size - hist[first])
    cum = np.cumsum(hist) - hist[first]
    return np.clip(np.rint(cum.astype(np.float64) * scale), 0, 65535).astype(np.uint16)


def main():
    src, dst, compression = sys.argv[1:4]
    started = time.perf_counter()
    img = cv2.imread(src, cv2.IMREAD_UNCHANGED)
    if img is None or img.ndim != 2:
        raise SystemExit(f'{src}: only single-channel images are compared')
    out = cv2.equalizeHist(img) if img.dtype == np.uint8 else lut16(img)[img]
    if not cv2.imwrite(dst, out, [cv2.IMWRITE_TIFF_COMPRESSION, COMPRESSION[compression]]):
        raise SystemExit(f'could not write {dst}')
    result = {'seconds': time.perf_counter() - started}
    if len(sys.argv) > 5 and sys.argv[4] == '--compare':
        other = cv2.imread(sys.argv[5], cv2.IMREAD_UNCHANGED)
        result['identical'] = other is not None and bool(np.array_equal(other, out))
    print(json.dumps(result))


main()
