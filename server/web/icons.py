"""App icons drawn by our own code (no downloaded artwork): a white house on the theme red.

`png(size, maskable)` returns PNG bytes. Maskable icons keep the house inside
the central safe zone (80 % circle) and fill the whole square, as the
manifest's `purpose: maskable` asks.
"""

from __future__ import annotations

import struct
import zlib
from functools import cache

RED = (179, 38, 30)
WHITE = (255, 255, 255)


def _inside_house(x: float, y: float) -> bool:
    """The house in unit coordinates (0..1): a roof triangle over a body with a door."""
    if 0.18 <= y <= 0.5:  # roof
        half = (y - 0.18) / 0.32 * 0.36
        return abs(x - 0.5) <= half
    if 0.5 < y <= 0.82:  # body, with the door cut out
        in_body = 0.24 <= x <= 0.76
        in_door = 0.44 <= x <= 0.56 and y >= 0.62
        return in_body and not in_door
    return False


def _inside_rounded(x: float, y: float, radius: float) -> bool:
    cx = min(max(x, radius), 1 - radius)
    cy = min(max(y, radius), 1 - radius)
    return (x - cx) ** 2 + (y - cy) ** 2 <= radius**2


@cache
def png(size: int, maskable: bool = False) -> bytes:
    scale = 0.8 if maskable else 1.0  # the safe zone of maskable icons
    rows = []
    for py in range(size):
        row = bytearray([0])  # filter: none
        for px in range(size):
            x, y = (px + 0.5) / size, (py + 0.5) / size
            if not maskable and not _inside_rounded(x, y, 0.18):
                row += bytes((0, 0, 0, 0))
                continue
            hx, hy = (x - 0.5) / scale + 0.5, (y - 0.5) / scale + 0.5
            colour = WHITE if _inside_house(hx, hy) else RED
            row += bytes((*colour, 255))
        rows.append(bytes(row))
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")
