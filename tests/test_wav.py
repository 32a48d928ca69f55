"""The 16-bit PCM WAV container of ``stridebeat.wav``, checked against libsndfile (through soundfile) as the
independent writer and reader."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from stridebeat.core.schedule import metronome_schedule
from stridebeat.core.track import SoundOptions, build_track
from stridebeat.errors import UsageError
from stridebeat.export import wav
from writers import export_track


@pytest.mark.parametrize("channels, frames", [(1, 1001), (2, 300), (1, 0)])
def test_header_and_samples_are_what_libsndfile_reads(tmp_path, channels, frames):
    rng = np.random.default_rng(5)
    pcm = rng.integers(-32768, 32768, (frames, channels)).astype(np.int16)
    path = tmp_path / "x.wav"
    path.write_bytes(wav.header(frames, 22050, channels) + pcm.astype(wav.PCM16).tobytes())
    info = sf.info(path)
    assert (info.format, info.subtype, info.channels, info.samplerate, info.frames) == (
        "WAV",
        "PCM_16",
        channels,
        22050,
        frames,
    )
    np.testing.assert_array_equal(sf.read(path, dtype="int16", always_2d=True)[0], pcm)


def test_the_4_gib_check_is_the_header_check_too():
    """One check (``wav.check_length``): the header refuses what the render refuses, with the same line."""
    frames = (wav.MAX_DATA_BYTES // 4) + 1
    with pytest.raises(UsageError, match=r"too long for a WAV file \(4 GiB at most\)"):
        wav.header(frames, 96000, 2)
    assert wav.header(frames - 1, 96000, 2)[:4] == b"RIFF"


def test_a_track_past_4_gib_is_refused_before_anything_is_written(tmp_path):
    """3.2 h at 96 kHz is 4.4 GB of 16-bit stereo: more than a WAV's 32-bit sizes describe. The track is events only,
    so it is cheap to build; the refusal comes before a temporary file exists."""
    track = build_track(metronome_schedule(180.0, 3.2 * 3600), SoundOptions(samplerate=96000))
    assert track.n_frames * 4 > 0xFFFFFFFF
    with pytest.raises(
        UsageError,
        match=r"a 3\.2 h track is too long for a WAV file \(4 GiB at most\): "
        r"write a \.flac file or give a lower --samplerate",
    ):
        export_track(track, tmp_path / "long.wav")
    assert list(tmp_path.iterdir()) == []
