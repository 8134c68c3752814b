"""Independent reference for the tests: OpenCV's own equalizeHist for 8-bit, and a direct NumPy
transcription of the documented formulas (README, Image math) for 16-bit and for the luma colour mode. Never imports project code.

usage: oracle.py OP IN.raw OUT.raw WIDTH HEIGHT CHANNELS DEPTH [CLIP TILES_X TILES_Y]
       oracle.py batch CALLS.txt   (one call's arguments per line)
       oracle.py decode IN.tif OUT.raw   (prints WIDTH HEIGHT CHANNELS DEPTH)

With the three extra arguments the plane (grey, luma, or each channel) goes through OpenCV's
createCLAHE(CLIP, (TILES_X, TILES_Y)).apply instead of equalizeHist.
"""
import sys

import cv2
import numpy as np

from equalize_formulas import equalize_plane

LUMA = (19595, 38470, 7471)


def luma(img):
    r, g, b = (img[..., i].astype(np.int64) for i in range(3))
    return (LUMA[0] * r + LUMA[1] * g + LUMA[2] * b + 32768) >> 16


def decode(src, dst):
    """Decodes a TIFF with OpenCV (its own libtiff build), RGB order, and prints its shape."""
    img = cv2.imread(src, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise SystemExit('OpenCV cannot read ' + src)
    if img.ndim == 3 and img.shape[2] == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    elif img.ndim == 3 and img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGBA)
    np.ascontiguousarray(img).tofile(dst)
    print(img.shape[1], img.shape[0], 1 if img.ndim == 2 else img.shape[2], img.dtype.itemsize * 8)


def run(args):
    op, src, dst = args[0:3]
    width, height, channels, depth = map(int, args[3:7])
    dtype = np.uint8 if depth == 8 else np.uint16
    img = np.fromfile(src, dtype=dtype).reshape(height, width, channels)
    out = img.copy()
    maxv = 255 if depth == 8 else 65535
    clahe = None
    if len(args) > 7:
        clip = float(args[7])
        clahe = cv2.createCLAHE(clipLimit=clip, tileGridSize=(int(args[8]), int(args[9])))
    if op == 'grey' or channels <= 2:
        out[..., 0] = equalize_plane(img[..., 0], depth, clahe)
    elif op == 'per-channel':
        for c in range(3):
            out[..., c] = equalize_plane(img[..., c], depth, clahe)
    elif op == 'luma':
        y = luma(img)
        y2 = equalize_plane(y.astype(dtype), depth, clahe).astype(np.int64)
        for c in range(3):
            out[..., c] = np.clip(img[..., c].astype(np.int64) + (y2 - y), 0, maxv).astype(dtype)
    else:
        raise SystemExit('unknown op ' + op)
    out.tofile(dst)


def main():
    if sys.argv[1] == 'decode':
        decode(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == 'batch':
        # One call per line of the file (the arguments above, space-separated): one interpreter
        # start for many cases.
        with open(sys.argv[2]) as lines:
            for line in lines:
                if line.strip():
                    run(line.split())
    else:
        run(sys.argv[1:])


main()
