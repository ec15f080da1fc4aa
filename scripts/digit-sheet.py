#!/usr/bin/env python3
"""Class folders of real handwritten digits from OpenCV's `samples/data/digits.png`.

Usage: scripts/digit-sheet.py SHEET OUT_DIR [PER_CLASS] [SEED]

The sheet is 2000x1000 pixels: 5,000 handwritten digits of 20x20, 100 to a row, five rows
per class from 0 to 9. Writes OUT_DIR/<digit>/<index>.png (8-bit grayscale), PER_CLASS
digits of each class (default 180, so 1,800 in all) drawn without repeats, for
`train_gan --data OUT_DIR`. No network, standard library only (a PNG decoder for the
8-bit, non-interlaced sheets OpenCV ships, in gray, RGB or RGBA).
"""
import os
import random
import struct
import sys
import zlib

CELL = 20
PER_ROW = 100
ROWS_PER_CLASS = 5


def read_png(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{path}: not a PNG")
    at, idat, header = 8, b"", None
    while at < len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    width, height, depth, color, _, _, interlace = header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(color)
    if depth != 8 or interlace or channels is None:
        sys.exit(f"{path}: only 8-bit, non-interlaced gray/RGB/RGBA PNGs are read")
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 255
        rows.append(bytes(line[0::channels]))  # the first channel: the sheet is gray
        previous = line
    return width, height, rows


def write_gray_png(path, width, height, pixels):
    def chunk(kind, body):
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    raw = b"".join(b"\x00" + pixels[y * width:(y + 1) * width] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    sheet, out = sys.argv[1], sys.argv[2]
    per_class = int(sys.argv[3]) if len(sys.argv) > 3 else 180
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    width, height, rows = read_png(sheet)
    if (width, height) != (CELL * PER_ROW, CELL * ROWS_PER_CLASS * 10):
        sys.exit(f"{sheet}: {width}x{height}, expected OpenCV's 2000x1000 digit sheet")
    in_class = PER_ROW * ROWS_PER_CLASS
    if not 1 <= per_class <= in_class:
        sys.exit(f"PER_CLASS is 1 to {in_class}")
    for digit in range(10):
        folder = os.path.join(out, str(digit))
        os.makedirs(folder, exist_ok=True)
        for k in sorted(rng.sample(range(in_class), per_class)):
            row, col = digit * ROWS_PER_CLASS + k // PER_ROW, k % PER_ROW
            pixels = b"".join(rows[row * CELL + y][col * CELL:(col + 1) * CELL]
                              for y in range(CELL))
            write_gray_png(os.path.join(folder, f"{k:03}.png"), CELL, CELL, pixels)
    print(f"{out}: {10 * per_class} digits of 20x20, {per_class} per class")


if __name__ == "__main__":
    main()
