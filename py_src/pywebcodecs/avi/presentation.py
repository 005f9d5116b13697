"""Presentation times for AVI video, which stores only decode order.

An AVI chunk's time is its place in the stream: a decode time. With B-frames a picture is
shown after pictures decoded later, so copying chunk times as ``pts`` shows frames out of
order. The bitstream says the display order: H.264's picture order count (section 8.2.1),
MPEG-4 Part 2's VOP coding type (a B-VOP is shown before the I/P-VOP decoded just before
it, ISO 14496-2 section 6.3.5). A decoder holds back ``depth`` pictures to reorder them and
shows each output picture at the time of the chunk being decoded then, as ffmpeg does with
AVI: the k-th picture shown gets the decode time of chunk ``k + depth``. That keeps every
``pts >= dts`` and, when there are no B-frames (``depth`` 0), ``pts == dts``.

The depth is what the stream's headers announce (H.264's VUI ``max_num_reorder_frames``,
which decoders use too) or, if more, what its first pictures need (the most pictures
decoded before one that is shown before them); so the first pictures wait until then
rather than the reader scanning ahead at open. A stream that later reorders deeper gets a
warning.
Not read: H.264 ``memory_management_control_operation`` 5 (a picture order count reset
without an IDR) and ``pic_order_cnt_type`` 1, HEVC's picture order count, and MPEG-4
"packed" B-frames (DivX: a P and a B-VOP in one chunk, already timed for decode order).
"""

from __future__ import annotations

import heapq
from typing import Protocol

from ..codec_data import H264Sps, h264_poc_lsb, parse_h264_sps
from ..errors import FormatError

#: A picture's place in display order: compared as a tuple, ties broken by decode order.
DisplayKey = tuple[int, int]

#: Pictures read before the reorder depth is decided (and the first packets held back).
DEPTH_SCAN = 64
_VOP_START = b"\x00\x00\x01\xb6"
_B_VOP = 2


class DisplayOrder(Protocol):
    """Gives each chunk's picture a display key, in decode order (``None``: none found).
    ``nals`` are the chunk's NAL units for H.264, else empty."""

    warning: str | None
    declared_depth: int  # the reorder depth the stream's headers announce, or 0

    def key(self, data: bytes, nals: list[bytes]) -> DisplayKey | None: ...


class H264DisplayOrder:
    """Picture order counts of ``pic_order_cnt_type`` 0 (H.264 section 8.2.1.1), counted
    from each IDR picture; other types show pictures in decode order."""

    def __init__(self) -> None:
        self.warning: str | None = None
        self.declared_depth = 0
        self._sps: H264Sps | None = None
        self._idr_count = 0
        self._decoded = 0
        self._prev_msb = 0
        self._prev_lsb = 0

    def key(self, data: bytes, nals: list[bytes]) -> DisplayKey | None:
        for nal in nals:
            kind = nal[0] & 0x1F if nal else 0
            try:
                if kind == 7:
                    self._sps = parse_h264_sps(nal)
                    self.declared_depth = self._sps.max_num_reorder_frames or 0
                elif kind in (1, 5) and self._sps is not None:
                    return self._slice_key(nal, self._sps)
            except FormatError:
                return None  # a damaged header: the caller keeps decode order
        return None

    def _slice_key(self, nal: bytes, sps: H264Sps) -> DisplayKey:
        self._decoded += 1
        if nal[0] & 0x1F == 5:
            self._idr_count += 1
            self._prev_msb = self._prev_lsb = 0
        if sps.poc_type != 0:
            if sps.poc_type == 1:
                self.warning = "pic_order_cnt_type 1 is not read: frames keep decode order"
            return self._idr_count, self._decoded
        lsb, size = h264_poc_lsb(nal, sps), 1 << sps.poc_lsb_bits
        msb = self._prev_msb
        if lsb < self._prev_lsb and self._prev_lsb - lsb >= size // 2:
            msb += size
        elif lsb > self._prev_lsb and lsb - self._prev_lsb > size // 2:
            msb -= size
        if nal[0] & 0x60:  # nal_ref_idc: reference pictures carry the count forward
            self._prev_msb, self._prev_lsb = msb, lsb
        return self._idr_count, msb + lsb


class Mpeg4DisplayOrder:
    """I/P-VOPs ("anchors") in decode order; each B-VOP between the previous two."""

    def __init__(self) -> None:
        self.warning: str | None = None
        self.declared_depth = 0
        self._anchors = 0
        self._b_frames = 0

    def key(self, data: bytes, nals: list[bytes]) -> DisplayKey | None:
        at = data.find(_VOP_START)
        if at < 0 or at + 4 >= len(data):
            return None
        if data[at + 4] >> 6 == _B_VOP:
            self._b_frames += 1
            return self._anchors - 1, self._b_frames
        self._anchors += 1
        self._b_frames = 0
        return self._anchors, 0


def display_order(codec: str) -> DisplayOrder | None:
    """The display order reader for ``codec``, if this module reads it."""
    if codec == "h264":
        return H264DisplayOrder()
    if codec == "mpeg4":
        return Mpeg4DisplayOrder()
    return None


def reorder_depth(keys: list[DisplayKey | None]) -> int:
    """The most pictures decoded before one that is shown before them all."""
    depth = 0
    for index, key in enumerate(keys):
        if key is not None:
            depth = max(depth, sum(1 for k in keys[:index] if k is not None and k > key))
    return depth


class PresentationTimes:
    """Decode times in, presentation times out, through a reorder queue.

    :meth:`push` takes each chunk's picture in decode order; its pts is known once it
    leaves the queue (:meth:`pts`), at the latest after :meth:`finish`. The queue's depth
    is decided after the first :data:`DEPTH_SCAN` pictures, which wait until then.
    """

    def __init__(self, order: DisplayOrder, step: int) -> None:
        self.order = order
        self.depth: int | None = None
        self.late = 0  # pictures that arrived after a picture shown after them had left
        self._step = step
        self._first: list[DisplayKey | None] = []  # keys while the depth is undecided
        self._queue: list[tuple[DisplayKey, int]] = []
        self._dts: list[int] = []
        self._pts: dict[int, int] = {}
        self._shown = 0
        self._last_key: DisplayKey | None = None

    def push(self, data: bytes, nals: list[bytes], dts: int) -> int:
        """Read a chunk's display key; returns its picture's decode index (for :meth:`pts`)."""
        key = self.order.key(data, nals)
        self._dts.append(dts)
        if self.depth is None:
            self._first.append(key)
            if len(self._first) == DEPTH_SCAN:
                self._decide_depth()
        else:
            self._enqueue(key, len(self._dts) - 1)
        return len(self._dts) - 1

    def pts(self, index: int) -> int | None:
        return self._pts.pop(index, None)

    def finish(self) -> None:
        if self.depth is None:
            self._decide_depth()
        while self._queue:
            self._show()

    def _decide_depth(self) -> None:
        self.depth = max(reorder_depth(self._first), self.order.declared_depth)
        for index, key in enumerate(self._first):
            self._enqueue(key, index)
        self._first = []

    def _enqueue(self, key: DisplayKey | None, index: int) -> None:
        assert self.depth is not None
        key = key or self._last_key or (0, 0)
        if self._last_key is not None and key < self._last_key:
            self.late += 1
        heapq.heappush(self._queue, (key, index))
        while len(self._queue) > self.depth:
            self._show()

    def _show(self) -> None:
        assert self.depth is not None
        key, index = heapq.heappop(self._queue)
        self._last_key = max(key, self._last_key or key)
        slot = self._shown + self.depth
        last = len(self._dts) - 1
        self._pts[index] = (
            self._dts[slot] if slot <= last else (self._dts[last] + (slot - last) * self._step)
        )
        self._shown += 1
