"""Time-map stretch: bend a song's time so that given source instants land on given target instants, pitch kept.

The stretcher is Rubber Band's offline key-frame map (``rubberband --timemap``, the ``rubberband`` program of the
Debian package ``rubberband-cli``; pyrubberband's ``timemap_stretch`` drives the same program). One call bends a whole
song span through every beat anchor, so there are no joins inside a span and nothing to click; songs are joined by
``plan`` with crossfades.

Why not pedalboard (``pedalboard.time_stretch``, Rubber Band built in): it takes a varying stretch factor but runs
Rubber Band in its streaming mode, where a change of ratio takes effect late, so beats drift off the footstrikes
through the acceleration; it has no key-frame map, and stretching beat by beat would need a crossfade at every beat.
pylibrb exposes ``set_keyframe_map`` but its binding rejects every mapping.

Engines (``ENGINES``, ``--music-stretch``), measured by bench/bench_stretch.py over the stretch range 0.8–1.25×:

* ``clean``, the default: R3 (``-3``) with its short window (``--window-short``, which Rubber Band calls a draft mode).
  It smears held notes no more than R3 with its standard window, the library's finest setting, at every ratio, and
  runs several times faster; it softens the low attack of some kicks, most when a song is played faster.
* ``crisp``: R2 (``-2``) at crispness 6 (short window, no phase lamination): the sharpest kicks, every one on its
  footstrike, but held chords and voices come out phasy (far more energy smeared off their partials).
* ``fine``: R3 with its standard window: sharper kicks than ``clean`` above about 1.1×, but it blurs low attacks at
  every ratio and takes several times as long.

The audio goes to the program as a 32-bit float WAV in a temporary folder and comes back the same way, so nothing is
quantised, and ``--ignore-clipping`` keeps the program from restarting at a lower gain when a peak passes 1.0
(loudness is set afterwards, by ``plan``).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from stridebeat.core.vocabulary import Stretcher
from stridebeat.errors import StridebeatError, UsageError

ENGINE_ARGS = ("-3", "--window-short")  # "clean", the default (see the module docstring)
ENGINES: dict[str, tuple[str, ...]] = {
    Stretcher.CLEAN: ENGINE_ARGS,
    Stretcher.CRISP: ("-2", "-c", "6"),
    Stretcher.FINE: ("-3",),
}
INSTALL = "music needs the rubberband program: apt-get install rubberband-cli (macOS: brew install rubberband)"


def rubberband_path() -> str:
    """The ``rubberband`` program: the one check that it is installed (the settings' gate asks it too).

    Raises
    ------
    StridebeatError
        It is not installed (the message says how to install it).
    """
    exe = shutil.which("rubberband")
    if exe is None:
        raise StridebeatError(INSTALL)
    return exe


def timemap_stretch(
    audio: np.ndarray,
    samplerate: int,
    source_frames: np.ndarray,
    target_frames: np.ndarray,
    out_frames: int,
    *,
    engine_args: tuple[str, ...] = ENGINE_ARGS,
) -> np.ndarray:
    """Stretch ``audio`` (``(n, channels)`` float32) to ``out_frames`` frames through key frames, pitch unchanged.

    ``source_frames[i]`` of the input lands on ``target_frames[i]`` of the output; both strictly increasing, inside
    ``(0, n)`` and ``(0, out_frames)``. Frame 0 maps to frame 0 and ``n`` to ``out_frames``, so the ratio before the
    first and after the last key frame follows from them. Returns ``(out_frames, channels)`` float32.

    Raises
    ------
    UsageError
        Key frames that do not match or do not increase, or audio too short.
    StridebeatError
        Rubber Band is missing or fails.
    """
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim == 1:
        x = x[:, None]
    n = x.shape[0]
    src = np.asarray(source_frames, dtype=np.int64)
    tgt = np.asarray(target_frames, dtype=np.int64)
    if src.shape != tgt.shape or src.ndim != 1:
        raise UsageError("source and target key frames differ in number; give one target per source frame")
    if n < 2 or out_frames < 2:
        raise UsageError(f"cannot stretch {n} frames to {out_frames}; give longer audio")
    inside = (src > 0) & (src < n) & (tgt > 0) & (tgt < out_frames)
    src, tgt = src[inside], tgt[inside]
    if src.size and (np.any(np.diff(src) <= 0) or np.any(np.diff(tgt) <= 0)):
        raise UsageError("key frames of a time map must increase strictly on both sides; check the beat times")
    y = _run(x, samplerate, src, tgt, out_frames, engine_args)
    if y.shape[0] >= out_frames:
        return np.ascontiguousarray(y[:out_frames])
    return np.concatenate([y, np.zeros((out_frames - y.shape[0], y.shape[1]), np.float32)])


def _run(
    x: np.ndarray, samplerate: int, src: np.ndarray, tgt: np.ndarray, out_frames: int, engine_args: tuple[str, ...]
) -> np.ndarray:
    """The ``rubberband`` program on ``x`` with the key frames ``src`` → ``tgt``, through 32-bit float WAV files in a
    temporary folder (module docstring)."""
    exe = rubberband_path()
    import soundfile as sf  # only a stretch needs it: the settings' gate imports this module for its check

    n = x.shape[0]
    with tempfile.TemporaryDirectory(prefix="stridebeat-stretch-") as tmp:
        folder = Path(tmp)
        sf.write(folder / "in.wav", x, samplerate, subtype="FLOAT")
        lines = [f"{s} {t}" for s, t in zip(src.tolist(), tgt.tolist(), strict=True)]
        lines.append(f"{n} {out_frames}")
        (folder / "map.txt").write_text("\n".join(lines) + "\n")
        cmd = [exe, "-q", *engine_args, "--ignore-clipping", "-t", repr(out_frames / n), "-M", str(folder / "map.txt")]
        done = subprocess.run([*cmd, str(folder / "in.wav"), str(folder / "out.wav")], capture_output=True, text=True,
                              check=False)  # fmt: skip
        if done.returncode != 0 or not (folder / "out.wav").is_file():
            tail = (done.stderr or done.stdout or "no output").strip().splitlines()
            raise StridebeatError(
                f"rubberband failed ({tail[-1] if tail else done.returncode}); install Rubber Band 3.x "
                "(apt-get install rubberband-cli)"
            )
        y, _ = sf.read(folder / "out.wav", dtype="float32", always_2d=True)
    return np.asarray(y, dtype=np.float32)
