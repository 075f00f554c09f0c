"""QR codes for pages to show or print: inline SVG drawn by segno, or the bare modules for the
phone to draw offline."""

from __future__ import annotations

import io
from typing import Any

import segno
from markupsafe import Markup


def qr_svg(
    url: str,
    *,
    scale: int,
    border: int | None = 2,
    svgclass: str = "qr",
    title: str | None = None,
    light: str | None = None,
    omitsize: bool = True,
) -> Markup:
    """`url` as an inline SVG QR code (error level M); no script, no style attribute. `light`
    None leaves the background transparent; `border` None is segno's quiet zone of 4."""
    code = segno.make(url, error="m")
    # segno writes the SVG itself and escapes the title.
    svg = code.svg_inline(
        scale=scale,
        border=border,
        svgclass=svgclass,
        title=title,
        dark="#000",
        light=light,
        omitsize=omitsize,
    )
    return Markup(svg)  # nosec B704


def qr_svg_file(url: str, *, scale: int, border: int = 2) -> bytes:
    """`url` as an SVG file to serve as `image/svg+xml` (an `<img>` source): unlike inline SVG it
    must carry the SVG namespace, or the browser draws nothing."""
    out = io.BytesIO()
    segno.make(url, error="m").save(
        out, kind="svg", scale=scale, border=border, dark="#000", xmldecl=False, svgns=True, svgclass="qr"
    )
    return out.getvalue()


def qr_modules(url: str) -> dict[str, Any]:
    """A QR code as its dark modules, row by row, in hex (4 modules a digit): the phone draws it
    offline from this, without a QR encoder of its own."""
    matrix = segno.make(url, error="m").matrix
    bits = "".join("1" if module else "0" for row in matrix for module in row)
    bits += "0" * (-len(bits) % 4)
    return {
        "size": len(matrix),
        "hex": "".join(f"{int(bits[i : i + 4], 2):x}" for i in range(0, len(bits), 4)),
    }
