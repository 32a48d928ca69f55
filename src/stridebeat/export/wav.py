"""The WAV container for 16-bit PCM, written here so that the file carries RIFF ``cue `` markers.

libsndfile cannot write cue points with labels, and a 16-bit PCM WAV is a fixed header and raw little-endian samples:
the render knows its length before the first sample, so the header is final from the start and the file is written in
one sequential pass, markers included. FLAC, OGG and MP3 go through soundfile (``export.audio``).

Layout, from the RIFF specification (Microsoft/IBM, "Multimedia Programming Interface and Data Specifications 1.0",
1991): ``RIFF <size> WAVE`` then chunks, each a four-character id, a little-endian uint32 size and the data, followed by
one pad byte when the size is odd (the pad is not counted in the size). The RIFF size counts everything after itself.
We write ``fmt `` (16 bytes, WAVE_FORMAT_PCM, the layout libsndfile writes for 16-bit stereo), ``data``, then any
trailing chunks (the markers of ``markers.py``).
"""

from __future__ import annotations

import struct

import numpy as np

from stridebeat.errors import OutputError, UsageError

WAVE_FORMAT_PCM = 1
SAMPLE_BYTES = 2
RIFF_MAX = 0xFFFFFFFF  # the RIFF size field is 32 bits; longer files would need RF64
PCM16 = np.dtype("<i2")  # WAV samples are little-endian on every host
# The samples' share of the 32-bit RIFF size, with room left for the header and the markers after them.
MAX_DATA_BYTES = RIFF_MAX - (1 << 20)


def data_bytes(n_frames: int, channels: int) -> int:
    return n_frames * channels * SAMPLE_BYTES


def check_length(n_frames: int, samplerate: int, channels: int = 2) -> None:
    """The one check of a WAV's 4 GiB: refuse, before any sample is rendered, samples that a WAV's 32-bit sizes
    cannot describe (with room for the header and the markers).

    Raises
    ------
    UsageError
        The track is too long for a WAV file (the message says what to write instead).
    """
    if data_bytes(n_frames, channels) > MAX_DATA_BYTES:
        raise UsageError(
            f"a {n_frames / samplerate / 3600:.1f} h track is too long for a WAV file (4 GiB at most): write a .flac "
            "file or give a lower --samplerate"
        )


def chunk(cid: bytes, payload: bytes) -> bytes:
    """One RIFF chunk: id, size, payload and the pad byte an odd size needs."""
    pad = b"\0" if len(payload) % 2 else b""
    return struct.pack("<4sI", cid, len(payload)) + payload + pad


def header(n_frames: int, samplerate: int, channels: int, trailer_bytes: int = 0) -> bytes:
    """Everything before the first sample of a 16-bit PCM WAV: ``RIFF``, ``fmt `` and the ``data`` chunk header.

    ``trailer_bytes`` is the length of the chunks that will follow the samples (already padded), so the RIFF size is
    right before they are written. The data size is always even (2 bytes per sample), so the samples need no pad.

    Raises
    ------
    UsageError
        The samples pass the 4 GiB that a WAV's 32-bit sizes can describe (``check_length``).
    OutputError
        The trailing chunks do not fit in the room left for them.
    """
    check_length(n_frames, samplerate, channels)
    block_align = channels * SAMPLE_BYTES
    data_bytes = n_frames * block_align
    size = 4 + (8 + 16) + (8 + data_bytes) + trailer_bytes  # everything after the size field: WAVE, fmt, data, trailer
    if size > RIFF_MAX:
        raise OutputError(f"{trailer_bytes} bytes of markers do not fit in a WAV file: render with --no-markers")
    fmt = struct.pack(
        "<HHIIHH", WAVE_FORMAT_PCM, channels, samplerate, samplerate * block_align, block_align, 8 * SAMPLE_BYTES
    )
    riff = struct.pack("<4sI4s", b"RIFF", size, b"WAVE")
    return riff + chunk(b"fmt ", fmt) + struct.pack("<4sI", b"data", data_bytes)
