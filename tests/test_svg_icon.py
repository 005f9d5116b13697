"""The PNG icons drawn from ``web/icon.svg`` at build time (``build_scripts/svg_icon.py``),
decoded by ffmpeg: the right size, the right colours where the SVG puts them, smooth
edges; an SVG feature the drawer does not draw is refused by name."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from oracle import REPO

sys.path.insert(0, str(REPO / "build_scripts"))
from svg_icon import IconError, svg_to_png

SIZE = 64


def decoded_rgba(png: bytes, tmp_path: Path) -> list[tuple[int, ...]]:
    """Pixels as ffmpeg decodes them, row by row."""
    path = tmp_path / "icon.png"
    path.write_bytes(png)
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgba", "-"],
        capture_output=True, check=True, timeout=30,
    ).stdout  # fmt: skip
    return [tuple(raw[i : i + 4]) for i in range(0, len(raw), 4)]


def test_the_site_icon_is_drawn_where_the_svg_says(tmp_path: Path) -> None:
    pixels = decoded_rgba(svg_to_png(REPO / "web" / "icon.svg", SIZE), tmp_path)
    assert len(pixels) == SIZE * SIZE

    def at(x: float, y: float) -> tuple[int, ...]:  # in the SVG's 512-unit coordinates
        return pixels[int(y * SIZE / 512) * SIZE + int(x * SIZE / 512)]

    assert at(2, 2) == (0, 0, 0, 0)  # outside the rounded corner: transparent
    assert at(256, 60) == (0x1F, 0x4E, 0x79, 255)  # the square
    assert at(240, 256) == (255, 255, 255, 255)  # inside the triangle
    assert at(400, 256) == (0x1F, 0x4E, 0x79, 255)  # right of its tip
    # Anti-aliased: the triangle's slanted edges leave pixels between the two colours.
    assert any(0x1F < p[0] < 255 and p[3] == 255 for p in pixels)


def test_what_it_cannot_draw_is_refused_by_name(tmp_path: Path) -> None:
    svg = tmp_path / "curvy.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8">'
                   '<circle cx="4" cy="4" r="3" fill="#fff"/></svg>')  # fmt: skip
    with pytest.raises(IconError, match="circle"):
        svg_to_png(svg, 16)
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8">'
                   '<path d="M1 1C2 2 3 3 4 4z" fill="#fff"/></svg>')  # fmt: skip
    with pytest.raises(IconError, match="'C'"):
        svg_to_png(svg, 16)
