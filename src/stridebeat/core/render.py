"""The block renderer: any block [start, start + n) of a track, computed on its own.

Export and live playback both call ``Renderer.render``; the same start frame always gives the same samples, so what is
played live is what is written to the file, sample for sample.

Real-time rules (``render`` runs inside the sounddevice callback): it uses only preallocated buffers (a scratch array
sized at construction), takes no lock, does no I/O and never raises on a valid block. numpy still creates small view
objects for slices; it never allocates sample memory here.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from stridebeat.core.track import Track

MAX_BLOCK = 1 << 16  # frames; the largest block a caller asks for at once


def mix(dst: np.ndarray, src: np.ndarray, gains: np.ndarray, scratch: np.ndarray) -> None:
    """Add the mono ``src`` into the stereo ``dst`` (as long) at the (left, right) ``gains``, through ``scratch`` (at
    least as long): real-time safe, no sample memory is allocated."""
    m = len(src)
    for ch in (0, 1):
        np.multiply(src, gains[ch], out=scratch[:m])
        np.add(dst[:, ch], scratch[:m], out=dst[:, ch])


class Renderer:
    """Render blocks of ``track`` into caller-owned float32 buffers of shape (n, 2)."""

    def __init__(self, track: Track, *, max_block: int = MAX_BLOCK) -> None:
        self.track = track
        self.max_block = max_block
        self._scratch = np.zeros(max(max_block, 1), dtype=np.float32)  # one mix call is at most one block
        self._max_len = track.max_sound_frames

    @property
    def n_frames(self) -> int:
        return self.track.n_frames

    def render(self, start: int, out: np.ndarray) -> None:
        """Fill ``out`` (float32, shape (n, 2), n ≤ ``max_block``) with frames [start, start + n) of the track.

        Frames outside the track are silence.
        """
        out.fill(0.0)
        n = out.shape[0]
        tr = self.track
        end = start + n
        # Events that can reach this block started at most max_len frames before it.
        i0 = int(np.searchsorted(tr.onsets, start - self._max_len, side="right"))
        i1 = int(np.searchsorted(tr.onsets, end, side="left"))
        scratch = self._scratch
        for i in range(i0, i1):
            onset = int(tr.onsets[i])
            snd = tr.sounds[tr.sound_ids[i]]
            a = max(start, onset)
            b = min(end, onset + len(snd))
            if b <= a:
                continue
            mix(out[a - start : b - start], snd[a - onset : b - onset], tr.gains[i], scratch)
        if end > tr.n_frames:
            out[max(0, tr.n_frames - start) :] = 0.0

    def blocks(self, block: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """Yield (start, block) over the whole track. The block is one reused buffer: copy it to keep it."""
        block = block or self.max_block
        buf = np.empty((block, 2), dtype=np.float32)
        for start in range(0, self.track.n_frames, block):
            n = min(block, self.track.n_frames - start)
            self.render(start, buf[:n])
            yield start, buf[:n]
