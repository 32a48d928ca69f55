"""The 16-bit PCM WAV container of ``stridebeat.wav``, checked against libsndfile (through soundfile) as the
independent writer and reader."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import soundfile as sf

from stridebeat.core.schedule import metronome_schedule
from stridebeat.core.track import SoundOptions, build_track
from stridebeat.errors import UsageError
from stridebeat.export import wav
from writers import export_track, read_pcm16


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


@pytest.mark.parametrize("channels, frames, title", [(1, 999, "odd"), (2, 300, "Race 51"), (1, 10, None)])
def test_reader_takes_libsndfile_files_and_skips_other_chunks(tmp_path, channels, frames, title):
    rng = np.random.default_rng(6)
    path = tmp_path / "x.wav"
    with sf.SoundFile(path, "w", 16000, channels, format="WAV", subtype="PCM_16") as f:
        f.write(rng.integers(-32768, 32768, (frames, channels)).astype(np.int16))
        if title:
            f.title = title  # libsndfile writes a LIST/INFO chunk after the data
    samples, rate = read_pcm16(path)
    assert rate == 16000 and samples.dtype == np.dtype("<i2")
    np.testing.assert_array_equal(samples, sf.read(path, dtype="int16", always_2d=True)[0])


@pytest.mark.parametrize("subtype", ["PCM_24", "FLOAT", "PCM_U8"])
def test_reader_refuses_other_sample_formats(tmp_path, subtype):
    path = tmp_path / "x.wav"
    sf.write(path, np.zeros((10, 1)), 16000, subtype=subtype)
    with pytest.raises(ValueError, match="not 16-bit PCM"):
        read_pcm16(path)


def test_reader_refuses_broken_files(tmp_path):
    path = tmp_path / "x.wav"
    path.write_bytes(wav.header(100, 16000, 1) + bytes(200))
    cut = tmp_path / "cut.wav"
    cut.write_bytes(path.read_bytes()[:150])
    with pytest.raises(ValueError, match="cut short: 106 of 200 data bytes"):
        read_pcm16(cut)
    flac = tmp_path / "x.flac"
    sf.write(flac, np.zeros((10, 1)), 16000)
    with pytest.raises(ValueError, match="not a RIFF/WAVE file"):
        read_pcm16(flac)
    bare = tmp_path / "bare.wav"
    bare.write_bytes(b"RIFF" + struct.pack("<I", 4) + b"WAVE")
    with pytest.raises(ValueError, match="no data chunk"):
        read_pcm16(bare)


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
