"""Draw the site's SVG icon as PNG files, in pure Python.

An installable web app needs PNG icons at 192 and 512 px besides the SVG, and a fresh
Debian machine has no SVG rasterizer unless one is installed (librsvg's ``rsvg-convert``,
ImageMagick). The icon is a few flat shapes, so this draws exactly what it uses and
refuses anything else, naming it, rather than drawing an icon wrong:

- ``<rect>`` (``x``, ``y``, ``width``, ``height``, ``rx``/``ry``) and ``<path>`` made of
  straight lines (``M L H V Z``, absolute or relative), filled (non-zero rule) with a
  ``#rgb`` or ``#rrggbb`` colour, on a transparent background;
- edges are anti-aliased: each pixel row is sampled at several heights, and each sample
  line covers pixels by the exact fraction of their width it crosses.
"""

from __future__ import annotations

import itertools
import math
import re
import struct
import zlib
from pathlib import Path
from xml.etree import ElementTree

SVG_NS = "{http://www.w3.org/2000/svg}"
SUBROWS = 5
ARC_SEGMENTS = 12
Point = tuple[float, float]
Polygon = list[Point]
Rgb = tuple[int, int, int]


class IconError(ValueError):
    """The SVG uses something this drawer does not draw."""


def svg_to_png(svg: Path, size: int) -> bytes:
    """The icon at ``size`` x ``size`` pixels, as PNG bytes."""
    root = ElementTree.fromstring(svg.read_text())
    view_box = [float(v) for v in root.get("viewBox", "").replace(",", " ").split()]
    if len(view_box) != 4:
        raise IconError(f"{svg}: the <svg> element needs a viewBox")
    shapes = [_shape(svg, element) for element in root if element.tag != f"{SVG_NS}title"]
    x0, y0, width, height = view_box
    scale = size / max(width, height)
    placed = [
        ([[((x - x0) * scale, (y - y0) * scale) for x, y in poly] for poly in polygons], rgb)
        for polygons, rgb in shapes
    ]
    rows = []
    for row in range(size):
        pixels = [0.0] * (4 * size)  # premultiplied r, g, b, alpha
        for polygons, rgb in placed:
            _paint(pixels, _coverage(polygons, row, size), rgb)
        rows.append(b"\0" + bytes(_unpremultiply(pixels)))
    return _png(size, size, b"".join(rows))


def _shape(svg: Path, element: ElementTree.Element) -> tuple[list[Polygon], Rgb]:
    tag = element.tag.removeprefix(SVG_NS)
    if tag == "rect":
        polygons = [_rect(element)]
    elif tag == "path":
        polygons = _path(svg, element.get("d", ""))
    else:
        raise IconError(f"{svg}: <{tag}> is not drawn (only <rect> and straight <path>)")
    return polygons, _colour(svg, element.get("fill", "#000"))


def _rect(element: ElementTree.Element) -> Polygon:
    x, y = float(element.get("x", 0)), float(element.get("y", 0))
    w, h = float(element.get("width", 0)), float(element.get("height", 0))
    rx = float(element.get("rx", element.get("ry", 0)))
    ry = float(element.get("ry", rx))
    rx, ry = min(rx, w / 2), min(ry, h / 2)
    corners = [(x + w - rx, y + ry, -90), (x + w - rx, y + h - ry, 0),
               (x + rx, y + h - ry, 90), (x + rx, y + ry, 180)]  # fmt: skip
    polygon: Polygon = []
    for cx, cy, start in corners:
        for step in range(ARC_SEGMENTS + 1):
            angle = math.radians(start + 90 * step / ARC_SEGMENTS)
            polygon.append((cx + rx * math.cos(angle), cy + ry * math.sin(angle)))
    return polygon


def _path(svg: Path, d: str) -> list[Polygon]:
    tokens = re.findall(r"[A-Za-z]|-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?", d)
    polygons: list[Polygon] = []
    x = y = 0.0
    command = ""
    i = 0
    while i < len(tokens):
        if tokens[i].isalpha():
            command = tokens[i]
            i += 1
        if command in "Zz":
            if polygons and polygons[-1]:
                x, y = polygons[-1][0]
            continue
        arity = 1 if command in "HhVv" else 2
        if command not in "MmLlHhVv" or i + arity > len(tokens):
            raise IconError(f"{svg}: path command {command!r} is not drawn (only M L H V Z)")
        values = [float(t) for t in tokens[i : i + arity]]
        i += arity
        relative = command.islower()
        if command in "Hh":
            x = x * relative + values[0]
        elif command in "Vv":
            y = y * relative + values[0]
        else:
            x, y = x * relative + values[0], y * relative + values[1]
        if command in "Mm":
            polygons.append([])
            command = "l" if relative else "L"  # later pairs are line-tos (SVG rule)
        polygons[-1].append((x, y))
    return [p for p in polygons if len(p) > 2]


def _colour(svg: Path, fill: str) -> Rgb:
    match = re.fullmatch(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})", fill.strip())
    if match is None:
        raise IconError(f"{svg}: fill {fill!r} is not drawn (only #rgb and #rrggbb)")
    digits = match[1] if len(match[1]) == 6 else "".join(c * 2 for c in match[1])
    r, g, b = (int(digits[k : k + 2], 16) for k in (0, 2, 4))
    return r, g, b


def _coverage(polygons: list[Polygon], row: int, width: int) -> list[float]:
    """How much of each pixel of ``row`` the polygons cover (non-zero rule), 0 to 1."""
    cover = [0.0] * (width + 1)
    full = [0.0] * (width + 1)  # difference array for whole pixels
    weight = 1 / SUBROWS
    for k in range(SUBROWS):
        y = row + (k + 0.5) / SUBROWS
        crossings: list[tuple[float, int]] = []
        for polygon in polygons:
            for (ax, ay), (bx, by) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
                if (ay <= y < by) or (by <= y < ay):
                    crossings.append((ax + (y - ay) * (bx - ax) / (by - ay), 1 if by > ay else -1))
        crossings.sort()
        winding = 0
        for (xa, direction), (xb, _) in itertools.pairwise(crossings):
            winding += direction
            if winding == 0:
                continue
            a, b = max(0.0, min(xa, width)), max(0.0, min(xb, width))
            ia, ib = int(a), int(b)
            if ia == ib:
                cover[ia] += (b - a) * weight
                continue
            cover[ia] += (ia + 1 - a) * weight
            full[ia + 1] += weight
            full[ib] -= weight
            cover[ib] += (b - ib) * weight
    running = 0.0
    for x in range(width):
        running += full[x]
        cover[x] = min(1.0, cover[x] + running)
    return cover[:width]


def _paint(pixels: list[float], coverage: list[float], rgb: Rgb) -> None:
    """Composite a flat colour over the row with ``coverage`` as its alpha."""
    r, g, b = rgb
    for x, alpha in enumerate(coverage):
        if alpha <= 0:
            continue
        keep = 1 - alpha
        i = 4 * x
        pixels[i] = r * alpha + pixels[i] * keep
        pixels[i + 1] = g * alpha + pixels[i + 1] * keep
        pixels[i + 2] = b * alpha + pixels[i + 2] * keep
        pixels[i + 3] = alpha + pixels[i + 3] * keep


def _unpremultiply(pixels: list[float]) -> list[int]:
    out = []
    for i in range(0, len(pixels), 4):
        alpha = pixels[i + 3]
        if alpha <= 0:
            out += (0, 0, 0, 0)
            continue
        out += (round(min(255.0, pixels[i + c] / alpha)) for c in range(3))
        out.append(round(alpha * 255))
    return out


def _png(width: int, height: int, raw_rows: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw_rows, 9))
        + chunk(b"IEND", b"")
    )
