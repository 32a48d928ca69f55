"""Reading a song: its header checked before any sample is decoded, then only as much audio as a song may hold.

A file's header says how long it is, at what rate and in how many channels (``soundfile.info``); a song is refused
from the header alone when it is not a regular file, longer than ``MAX_SONG_S``, more frames than ``MAX_SONG_FRAMES``
or at a rate no audio uses, so a tiny file whose header claims billions of frames costs nothing. The audio is then
decoded block by block, keeping two channels, and decoding stops at those bounds whatever the header said: a song's
memory is bounded, never by its header's claims or its channel count. Samples far beyond full scale (``MAX_SAMPLE``)
are refused: no player plays them as music, and their powers would overflow the analysis.
"""

from __future__ import annotations

import math
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stridebeat.errors import UsageError

MIN_SONG_S = 3.0  # one 4/4 bar at 80 bpm, the slow end of what a runner runs to
MAX_SONG_S = 15 * 60.0  # longer files (a DJ mix, an album) are cut into songs first
# Decoded as stereo float32 a song takes 8 bytes a frame: this many frames bound it to 512 MiB (15 minutes at up to
# 74 kHz; a high-rate file is converted to a common rate first).
MAX_SONG_FRAMES = (512 << 20) // 8
RATE_RANGE = (4000, 384000)  # the sample rates audio files are made at
MAX_SAMPLE = 64.0  # +36 dBFS: float files may pass full scale a little, never by this much
BLOCK_FRAMES = 1 << 16  # frames decoded at once


@dataclass(frozen=True, slots=True, kw_only=True)
class SongHeader:
    """What a song file's header says."""

    frames: int
    samplerate: int
    channels: int

    @property
    def duration_s(self) -> float:
        return self.frames / self.samplerate


def _length(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} hours"
    from stridebeat.core.clock import format_time

    return format_time(seconds, unit=True)


def song_header(path: str | os.PathLike[str]) -> SongHeader:
    """The header of the song at ``path``, checked (module docstring); nothing is decoded.

    Raises
    ------
    UsageError
        Not a regular file, not audio, no audio in it, an implausible rate, or longer than ``MAX_SONG_S``.
    """
    p = Path(path)
    try:
        mode = p.stat().st_mode
    except OSError:
        raise UsageError(f"song file '{p}' does not exist; check the path", key="music") from None
    if not stat.S_ISREG(mode):  # a FIFO would block the decoder, a device never end
        raise UsageError(f"song '{p}' is not a regular file (a folder, pipe or device); give a file", key="music")
    import soundfile as sf

    try:
        info = sf.info(os.fspath(p))
    except (sf.SoundFileError, RuntimeError, TypeError, ValueError) as exc:
        raise UsageError(f"cannot read '{p.name}' as audio ({_reason(exc)}); give a WAV, FLAC, OGG or MP3 file",
                         key="music") from None  # fmt: skip
    if info.frames <= 0 or info.channels <= 0:
        raise UsageError(f"'{p.name}' holds no audio; choose another song", key="music")
    lo, hi = RATE_RANGE
    if not lo <= info.samplerate <= hi:
        raise UsageError(f"'{p.name}' claims {info.samplerate} samples a second, which no audio uses; "
                         "choose another song", key="music")  # fmt: skip
    header = SongHeader(frames=int(info.frames), samplerate=int(info.samplerate), channels=int(info.channels))
    if header.duration_s > MAX_SONG_S:
        raise UsageError(
            f"'{p.name}' lasts {_length(header.duration_s)} by its header, longer than {MAX_SONG_S / 60:g} minutes; "
            "cut it into songs or choose a shorter one",
            key="music",
        )
    if header.frames > MAX_SONG_FRAMES:
        raise UsageError(
            f"'{p.name}' holds {header.frames} frames at {header.samplerate} Hz, more than a song may "
            f"({MAX_SONG_FRAMES}); convert it to 44.1 or 48 kHz",
            key="music",
        )
    return header


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[-1] if text else type(exc).__name__


def _decode(p: Path, header: SongHeader) -> np.ndarray:
    """The file's audio as ``(n, 2)`` float32 at its own rate, at most ``MAX_SONG_S`` of it, block by block."""
    import soundfile as sf

    limit = min(math.ceil(MAX_SONG_S * header.samplerate), MAX_SONG_FRAMES)
    blocks, total, peak = [], 0, 0.0
    try:
        with sf.SoundFile(os.fspath(p)) as f:
            while total < limit:
                block = f.read(min(BLOCK_FRAMES, limit - total), dtype="float32", always_2d=True)
                if block.shape[0] == 0:
                    break
                block = np.nan_to_num(block[:, :2], nan=0.0, posinf=0.0, neginf=0.0)
                peak = max(peak, float(np.max(np.abs(block), initial=0.0)))
                blocks.append(np.repeat(block, 2, axis=1) if block.shape[1] == 1 else block)
                total += block.shape[0]
    except (sf.SoundFileError, RuntimeError, TypeError, ValueError) as exc:
        raise UsageError(f"cannot read '{p.name}' as audio ({_reason(exc)}); give a WAV, FLAC, OGG or MP3 file",
                         key="music") from None  # fmt: skip
    if peak > MAX_SAMPLE:
        raise UsageError(f"'{p.name}' holds samples of magnitude {peak:.3g}, far beyond full scale (1.0): it is not "
                         "audio a player plays; choose another song", key="music")  # fmt: skip
    if total == 0:
        raise UsageError(f"'{p.name}' holds no audio; choose another song", key="music")
    return np.concatenate(blocks) if len(blocks) > 1 else blocks[0]


def load_song(path: str | os.PathLike[str], samplerate: int) -> np.ndarray:
    """Read a song (WAV, FLAC, OGG, MP3: whatever libsndfile reads) as ``(n, 2)`` float32 at ``samplerate``.

    Mono is copied to both sides; of more than two channels the first two are kept. Other rates are resampled with
    soxr. The header is checked first (``song_header``) and at most ``MAX_SONG_S`` is decoded.

    Raises
    ------
    UsageError
        A missing, unreadable, implausible, too short or too long file, or samples far beyond full scale.
    """
    p = Path(path)
    header = song_header(p)
    data = _decode(p, header)
    if header.samplerate != int(samplerate):
        import soxr  # a dependency of stridebeat already (voice clips)

        data = soxr.resample(data, header.samplerate, int(samplerate), quality="HQ")
    data = np.ascontiguousarray(data, dtype=np.float32)
    duration = data.shape[0] / samplerate
    if duration < MIN_SONG_S:
        raise UsageError(
            f"'{p.name}' lasts {duration:.1f} s, shorter than one bar ({MIN_SONG_S:.0f} s); choose a longer song",
            key="music",
        )
    return data
