"""Changes to decoded ``AudioData`` made inside the browser (typed arrays, never sample by
sample in Python)."""

from __future__ import annotations

from array import array
from typing import Any

import js
from pyodide.code import run_js

from ...audio_plan import Matrix
from ..interop import js_object


def slice_frames(data: Any, skip: int, frames: int, timestamp: int) -> Any:
    """A new ``AudioData`` of ``frames`` frames from frame ``skip`` on, dated ``timestamp``
    (µs): a cut at the trim window or at the input's priming."""
    channels = int(data.numberOfChannels)
    samples = js.Float32Array.new(frames * channels)
    for channel in range(channels):
        plane = samples.subarray(channel * frames, (channel + 1) * frames)
        options = {"planeIndex": channel, "frameOffset": skip, "frameCount": frames,
                   "format": "f32-planar"}  # fmt: skip
        data.copyTo(plane, js_object(options))
    init = {
        "format": "f32-planar",
        "sampleRate": data.sampleRate,
        "numberOfFrames": frames,
        "numberOfChannels": channels,
        "timestamp": timestamp,
        "data": samples,
    }
    return js.AudioData.new(js_object(init))


def silence(channels: int, rate: int, frames: int, timestamp: int) -> Any:
    """A new ``AudioData`` of ``frames`` silent frames dated ``timestamp`` (µs): fed to an
    encoder after the input's end, so that what it loses on flush is not the input's."""
    init = {
        "format": "f32-planar",
        "sampleRate": rate,
        "numberOfFrames": frames,
        "numberOfChannels": channels,
        "timestamp": timestamp,
        "data": js.Float32Array.new(frames * channels),
    }
    return js.AudioData.new(js_object(init))


#: Remix (a matrix over planar float samples) and resampling (a Blackman-windowed sinc,
#: 32 taps at full bandwidth, tabulated once per phase: 160 phases for 44.1 → 48 kHz; its
#: state carried from one ``AudioData`` to the next so that chunk boundaries leave no
#: seam), as one JS class: the per-sample loops run in JS, never in
#: Python. Output sample ``n`` lies at input position ``n * inRate / outRate``; ``finish``
#: gives the tail up to ``round(received * outRate / inRate)`` samples, so the output
#: lasts as long as the input to within half a sample. Why not an ``OfflineAudioContext``
#: per chunk: measured in Chromium 156 on this (loaded) machine, 60 s of 5.1 at 44.1 kHz
#: to stereo took 0.7 s to mix here against 3.1 s there; mixed and resampled to 48 kHz,
#: 3.9 s against 2.9 s, but a render per chunk starts each chunk afresh (a seam at every
#: boundary) and rounds each chunk's length (2881160 frames where 2880017 are due).
_RESHAPER_JS = r"""
(() => {
  const TAPS = 16;  // kernel half-width, in input samples at full bandwidth
  const MAX_PHASES = 1024;  // rates with no small common period share 1024 phases
  function gcd(a, b) { return b ? gcd(b, a % b) : a; }
  // One normalised set of 2*half weights per phase (fraction of an input sample).
  function phaseTable(half, cutoff, phases) {
    const table = new Float32Array(phases * 2 * half);
    for (let phase = 0; phase < phases; phase++) {
      const frac = phase / phases;
      let sum = 0;
      const row = table.subarray(phase * 2 * half, (phase + 1) * 2 * half);
      for (let k = 1 - half; k <= half; k++) {
        const x = k - frac, u = Math.PI * x / half, s = cutoff * x;
        const window = 0.42 + 0.5 * Math.cos(u) + 0.08 * Math.cos(2 * u);  // Blackman
        const w = cutoff * (s === 0 ? 1 : Math.sin(Math.PI * s) / (Math.PI * s)) * window;
        row[k + half - 1] = w;
        sum += w;
      }
      for (let i = 0; i < row.length; i++) row[i] /= sum;
    }
    return table;
  }
  class Resampler {
    constructor(inRate, outRate, channels) {
      this.inRate = inRate;
      this.outRate = outRate;
      const cutoff = inRate > outRate ? 0.95 * outRate / inRate : 1;
      this.half = Math.ceil(TAPS / Math.min(1, outRate / inRate));
      this.step = gcd(inRate, outRate);  // output-rate units per exact phase
      this.exact = outRate / this.step <= MAX_PHASES;
      this.phases = this.exact ? outRate / this.step : MAX_PHASES;
      this.table = phaseTable(this.half, cutoff, this.phases);
      this.base = -this.half;  // the input index of buffers[c][0] (silence before 0)
      this.buffers = Array.from({length: channels}, () => new Float32Array(this.half));
      this.received = 0;
      this.produced = 0;
    }
    push(planes, final) {
      const added = planes[0].length;
      const pad = final ? this.half + 1 : 0;  // silence after the end, for the last taps
      this.buffers = this.buffers.map((old, c) => {
        const joined = new Float32Array(old.length + added + pad);
        joined.set(old);
        joined.set(planes[c], old.length);
        return joined;
      });
      this.received += added;
      const { inRate, outRate, half, table, phases, step, exact } = this;
      const taps = 2 * half;
      const last = final ? Math.round(this.received * outRate / inRate)
        : Math.ceil((this.received - half) * outRate / inRate);
      const count = Math.max(0, last - this.produced);
      const out = this.buffers.map(() => new Float32Array(count));
      for (let i = 0; i < count; i++) {
        const position = (this.produced + i) * inRate;  // in 1/outRate input samples
        let centre = Math.floor(position / outRate);
        const rest = position - centre * outRate;
        let phase = exact ? rest / step : Math.round(rest * phases / outRate);
        if (phase === phases) { phase = 0; centre += 1; }
        const row = phase * taps;
        const first = centre + 1 - half - this.base;
        for (let c = 0; c < out.length; c++) {
          const buffer = this.buffers[c];
          let acc = 0;
          for (let k = 0; k < taps; k++) acc += table[row + k] * buffer[first + k];
          out[c][i] = acc;
        }
      }
      this.produced += count;
      const keep = Math.floor(this.produced * inRate / outRate) + 1 - half - this.base;
      if (keep > 0) {
        this.buffers = this.buffers.map((buffer) => buffer.slice(Math.min(keep, buffer.length)));
        this.base += keep;
      }
      return out;
    }
  }
  function mix(planes, matrix, outputs) {
    const frames = planes[0].length, inputs = planes.length;
    const out = [];
    for (let o = 0; o < outputs; o++) {
      const plane = new Float32Array(frames);
      for (let i = 0; i < inputs; i++) {
        const gain = matrix[o * inputs + i];
        if (gain === 0) continue;
        const source = planes[i];
        for (let f = 0; f < frames; f++) plane[f] += gain * source[f];
      }
      out.push(plane);
    }
    return out;
  }
  return class AudioReshaper {
    constructor(inChannels, outChannels, matrix, inRate, outRate) {
      this.outChannels = outChannels;
      this.matrix = matrix;
      this.outRate = outRate;
      this.resampler = inRate === outRate ? null : new Resampler(inRate, outRate, outChannels);
      this.start = null;
      this.written = 0;
    }
    // Frames [skip, skip + frames) of `data`, dated `timestamp` µs if they are the first.
    push(data, skip, frames, timestamp) {
      if (this.start === null) this.start = timestamp;
      const planes = [];
      for (let c = 0; c < data.numberOfChannels; c++) {
        const plane = new Float32Array(frames);
        data.copyTo(plane, {planeIndex: c, frameOffset: skip, frameCount: frames,
                            format: "f32-planar"});
        planes.push(plane);
      }
      const mixed = this.matrix ? mix(planes, this.matrix, this.outChannels) : planes;
      return this.emit(this.resampler ? this.resampler.push(mixed, false) : mixed);
    }
    finish() {
      if (!this.resampler || this.start === null) return [];
      return this.emit(this.resampler.push(this.buffersOfSilence(), true));
    }
    buffersOfSilence() {
      return Array.from({length: this.outChannels}, () => new Float32Array(0));
    }
    emit(planes) {
      const frames = planes[0].length;
      if (frames === 0) return [];
      const samples = new Float32Array(frames * planes.length);
      planes.forEach((plane, c) => samples.set(plane, c * frames));
      const timestamp = this.start + Math.round(this.written * 1e6 / this.outRate);
      this.written += frames;
      return [new AudioData({format: "f32-planar", sampleRate: this.outRate,
                             numberOfFrames: frames, numberOfChannels: planes.length,
                             timestamp, data: samples})];
    }
  };
})()
"""

_AudioReshaper: Any = None


def audio_reshaper(
    in_channels: int, in_rate: int, matrix: Matrix | None, out_channels: int, out_rate: int
) -> Any:
    """A JS ``AudioReshaper`` taking ``in_channels`` at ``in_rate`` to ``out_channels`` (by
    ``matrix``, rows per output channel) at ``out_rate``. Its ``push(data, skip, frames,
    timestamp)`` and ``finish()`` return arrays of new ``AudioData`` (maybe empty) for the
    caller to encode and close."""
    global _AudioReshaper
    if _AudioReshaper is None:
        _AudioReshaper = run_js(_RESHAPER_JS)
    flat = None
    if matrix is not None:
        flat = js.Float32Array.new(len(matrix) * in_channels)
        flat.assign(array("f", [gain for row in matrix for gain in row]))
    return _AudioReshaper.new(in_channels, out_channels, flat, in_rate, out_rate)
