"""Changes to decoded ``VideoFrame`` pixels on their way to the encoder (no pixels reach
Python). What to change is decided in :mod:`pywebcodecs.frame_plan`; this carries it out.

Nothing is drawn on a canvas: Chromium keeps the RGB picture it converts each decoded
frame into when one is drawn (``drawImage``, ``createImageBitmap``, ``texImage2D`` alike;
~0.8 MiB at 640x360, given back neither on ``close()`` nor on garbage collection, until
some ~450 MiB are held: ``build_scripts/bench_transforms.py``). Instead:

- a crop alone is a new ``VideoFrame`` over the same pixels with a smaller
  ``visibleRect`` (the encoder scales it to its configured size like any frame);
- a rotation copies the cropped rectangle out (``copyTo``, in the frame's own planar
  format so the colours are the decoder's, unconverted), turns each plane in JS and
  makes a frame of the result. ``copyTo`` is asynchronous, so frames are copied as they
  come and encoded in order as their copies land, and ``drained()`` waits for the last.
  Few are ever in between: a frame in memory is copied at once and its turn runs before
  the next task, so the session's limits on the codecs' queues still bound the work.
"""

from __future__ import annotations

from typing import Any

from pyodide.code import run_js

from ...frame_plan import Crop, Geometry
from ...track import VideoTrack

_TRANSFORM_JS = r"""
// [bytes per sample, horizontal subsampling, vertical subsampling] of each plane, for the
// formats whose planes stay in that format when turned (same subsampling both ways).
// Any other (4:2:2) is copied out as RGBX.
const Y8 = [1, 1, 1], C8 = [1, 2, 2], Y16 = [2, 1, 1], C16 = [2, 2, 2];
const PLANES = {
  I420: [Y8, C8, C8], I420A: [Y8, C8, C8, Y8], I444: [Y8, Y8, Y8], I444A: [Y8, Y8, Y8, Y8],
  I420P10: [Y16, C16, C16], I420P12: [Y16, C16, C16], I420AP10: [Y16, C16, C16, Y16],
  I444P10: [Y16, Y16, Y16], I444P12: [Y16, Y16, Y16], I444AP10: [Y16, Y16, Y16, Y16],
  NV12: [Y8, [2, 2, 2]], RGBA: [[4, 1, 1]], RGBX: [[4, 1, 1]], BGRA: [[4, 1, 1]],
  BGRX: [[4, 1, 1]],
};
const VIEWS = { 1: Uint8Array, 2: Uint16Array, 4: Uint32Array };

// Plane i of a width x height picture in `planes`, packed one after the other (each
// start aligned to 4 bytes, for the 16- and 32-bit views): [offset, units wide, high].
function packed(planes, width, height) {
  let offset = 0;
  return planes.map(([bytes, sx, sy]) => {
    const plane = [offset, Math.ceil(width / sx), Math.ceil(height / sy)];
    offset += Math.ceil((plane[1] * plane[2] * bytes) / 4) * 4;
    return plane;
  });
}

function layout(planes, shape) {
  return shape.map(([offset, w], i) => ({ offset, stride: w * planes[i][0] }));
}

function size(planes, shape) {
  const [offset, w, h] = shape[shape.length - 1];
  return offset + w * h * planes[planes.length - 1][0];
}

// `s` (w x h units) turned clockwise into `d`, walking 32x32 tiles so that reads and
// writes both stay in cache.
function turn(s, d, w, h, rotation) {
  if (rotation === 180) {
    d.set(s);
    d.reverse();
    return;
  }
  for (let x0 = 0; x0 < w; x0 += 32) {
    const x1 = Math.min(x0 + 32, w);
    for (let y0 = 0; y0 < h; y0 += 32) {
      const y1 = Math.min(y0 + 32, h);
      for (let x = x0; x < x1; x++) {
        if (rotation === 90) {
          const row = x * h + h - 1;
          for (let y = y0; y < y1; y++) d[row - y] = s[y * w + x];
        } else {
          const row = (w - 1 - x) * h;
          for (let y = y0; y < y1; y++) d[row + y] = s[y * w + x];
        }
      }
    }
  }
}

// As turn() for bytes, w and h multiples of 4: 4x4 blocks through 32-bit words (a
// quarter of the reads and writes; 2-4x faster at 720p).
function turnBytes(s8, d8, w, h, rotation) {
  const s = new Uint32Array(s8.buffer, s8.byteOffset, (w * h) >> 2);
  const d = new Uint32Array(d8.buffer, d8.byteOffset, (w * h) >> 2);
  const sw = w >> 2, dw = h >> 2, clockwise = rotation === 90, step = clockwise ? dw : -dw;
  for (let i0 = 0; i0 < sw; i0 += 8) {
    const i1 = Math.min(i0 + 8, sw);
    for (let y = 0; y < h; y += 4) {
      const o = y * sw, col = clockwise ? (h - 4 - y) >> 2 : y >> 2;
      for (let i = i0; i < i1; i++) {
        const top = s[o + i], second = s[o + sw + i];
        const third = s[o + 2 * sw + i], bottom = s[o + 3 * sw + i];
        // a, b, c, e: the source rows in the order they land in each output word
        const a = clockwise ? bottom : top, b = clockwise ? third : second;
        const c = clockwise ? second : third, e = clockwise ? top : bottom;
        let at = (clockwise ? 4 * i : w - 1 - 4 * i) * dw + col;
        d[at] = (a & 255) | ((b & 255) << 8) | ((c & 255) << 16) | ((e & 255) << 24);
        d[(at += step)] =
          ((a >>> 8) & 255) | (b & 0xff00) | ((c & 0xff00) << 8) | ((e & 0xff00) << 16);
        d[(at += step)] =
          ((a >>> 16) & 255) | ((b >>> 8) & 0xff00) | (c & 0xff0000) | ((e & 0xff0000) << 8);
        d[at + step] =
          (a >>> 24) | ((b >>> 16) & 0xff00) | ((c >>> 8) & 0xff0000) | (e & 0xff000000);
      }
    }
  }
}

class FrameTransform {
  constructor(rotation, left, top, width, height) {
    Object.assign(this, { rotation, left, top, width, height });
    this.error = null;
    this.tail = Promise.resolve();
    this.spare = [];  // copy buffers no longer in use
    this.shapes = new Map();  // per format: [planes, source shape, turned shape, turned size]
  }

  // Encode `frame`'s transformed pixels shown at `timestamp` for `duration` (µs). The
  // caller may close `frame` at once (a rotation copies from a clone of it).
  encode(encoder, frame, timestamp, duration, options) {
    if (this.error) throw this.error;
    const v = frame.visibleRect;
    const rect = { x: v.x + this.left, y: v.y + this.top, width: this.width, height: this.height };
    if (!this.rotation) {
      const out = new VideoFrame(frame, { timestamp, duration, visibleRect: rect });
      try { encoder.encode(out, options); } finally { out.close(); }
      return;
    }
    const format = PLANES[frame.format] ? frame.format : "RGBX";
    const [planes, from, to, turned] = this.shape(format);
    let data = this.spare.pop();
    if (!data || data.byteLength < size(planes, from)) data = new ArrayBuffer(size(planes, from));
    const copy = { rect, layout: layout(planes, from) };
    if (format !== frame.format) Object.assign(copy, { format, colorSpace: "srgb" });
    const colorSpace = format === frame.format ? frame.colorSpace.toJSON() : undefined;
    const clone = frame.clone();
    const copied = clone.copyTo(data, copy).finally(() => clone.close());
    this.tail = Promise.all([copied, this.tail])
      .then(() => {
        if (this.error) return;
        const out = this.turned(data, format, planes, from, to, turned);
        const frameOut = new VideoFrame(out, {
          format, codedWidth: to[0][1], codedHeight: to[0][2], timestamp, duration,
          colorSpace, layout: layout(planes, to),
        });
        try { encoder.encode(frameOut, options); } finally { frameOut.close(); }
      })
      .catch((error) => { this.error = this.error || error; })
      .finally(() => this.spare.push(data));
  }

  turned(data, format, planes, from, to, turned) {
    if (!this.out || this.out.byteLength < turned) this.out = new ArrayBuffer(turned);
    planes.forEach(([bytes], i) => {
      const [offset, w, h] = from[i];
      const words = bytes === 1 && this.rotation !== 180 && w % 4 === 0 && h % 4 === 0;
      const View = VIEWS[bytes];
      (words ? turnBytes : turn)(new View(data, offset, w * h),
                                 new View(this.out, to[i][0], w * h), w, h, this.rotation);
    });
    return new Uint8Array(this.out, 0, turned);
  }

  shape(format) {
    let shape = this.shapes.get(format);
    if (!shape) {
      const planes = PLANES[format];
      const sideways = this.rotation !== 180;
      const [w, h] = sideways ? [this.height, this.width] : [this.width, this.height];
      const from = packed(planes, this.width, this.height), to = packed(planes, w, h);
      shape = [planes, from, to, size(planes, to)];
      this.shapes.set(format, shape);
    }
    return shape;
  }

  // Resolves once every frame given to encode() has gone to the encoder; rejects with
  // the first failure.
  async drained() {
    await this.tail;
    if (this.error) throw this.error;
  }
}
FrameTransform
"""

_FrameTransform: Any = None


class FrameTransform:
    """Crop, then rotation of decoded frames (scaling is the encoder's), straight into the
    encoder: ``encode`` per output frame, then ``await drained()`` before flushing it."""

    def __init__(self, geometry: Geometry, source: tuple[int, int]) -> None:
        global _FrameTransform
        if _FrameTransform is None:
            _FrameTransform = run_js(_TRANSFORM_JS)
        crop = geometry.crop or Crop(0, 0, *source)
        self._js = _FrameTransform.new(geometry.rotation, crop.left, crop.top, crop.width,
                                       crop.height)  # fmt: skip
        self.encode = self._js.encode

    @classmethod
    def needed(cls, track: VideoTrack, geometry: Geometry) -> FrameTransform | None:
        """None when the frames go to the encoder as they are: also when only their size
        changes, since the encoder scales each frame to the size it was configured with."""
        if not geometry.changes_pixels:
            return None
        return cls(geometry, (track.width, track.height))

    async def drained(self) -> None:
        await self._js.drained()
