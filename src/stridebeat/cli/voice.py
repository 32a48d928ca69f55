"""`stridebeat voice`: the words a plan says, checking a folder of one's own clips, and recording them."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from stridebeat.cli import cli
from stridebeat.errors import StridebeatError, UsageError


@cli.group("voice")
def voice_group() -> None:
    """A voice of your own: the words to record, recording them, and checking the folder.

    \b
    A voice is a folder of clips, one per word: <word>.wav (spaces as _), 16-bit mono WAV at 44.1 kHz, the word
    from its first sample. A shipped voice copied to a folder is one too. Use it with --voice FOLDER.
    \b
    Examples:
      stridebeat voice words
      stridebeat voice record ~/coach-voice
      stridebeat voice check ~/coach-voice
      stridebeat render --time 51 --voice ~/coach-voice -o race51.wav
    """


def _all_words() -> list[str]:
    from stridebeat.core.voice import ALL_WORDS

    return list(ALL_WORDS)


def _chosen_words(words: str | None) -> list[str]:
    """The words of ``--words`` (comma-separated), each checked against the vocabulary; all of them when None."""
    every = _all_words()
    if words is None:
        return every
    chosen = [w.strip().replace("_", " ") for w in words.split(",") if w.strip()]
    unknown = [w for w in chosen if w not in every]
    if unknown or not chosen:
        raise UsageError(
            f"--words: {', '.join(repr(w) for w in unknown) or 'no word given'} not in the vocabulary; "
            "'stridebeat voice words' lists them"
        )
    return list(dict.fromkeys(chosen))


@voice_group.command("words")
def words_cmd() -> None:
    """List every word or phrase a plan or session may say, with the file name of its clip."""
    from stridebeat.core.clips import clip_name

    every = _all_words()
    width = max(len(w) for w in every)
    click.echo("\n".join(f"{w:{width}s}  {clip_name(w)}" for w in every))
    click.echo(f"{len(every)} words")


@voice_group.command("check")
@click.argument("folder", metavar="FOLDER")
def check_cmd(folder: str) -> None:
    """Say which clips of a voice FOLDER are missing or unusable (too quiet, clipped, too long, wrong format).

    One line per problem; exit status 1 when there is any, 0 when every word has a usable clip.
    """
    from stridebeat.core.clips import VOICE_FILE, check_folder, voice_folder

    where = voice_folder(folder)
    every = _all_words()
    problems = [c for c in check_folder(where, every) if c.problem is not None]
    if (where / VOICE_FILE).is_file():
        _show_about(where / VOICE_FILE)
    for c in problems:
        click.echo(f"{c.token}: {c.path.name}: {c.problem}")
    if problems:
        raise StridebeatError(
            f"{len(problems)} of {len(every)} words have no usable clip in {where}: "
            f"record them with 'stridebeat voice record {where}'"
        )
    click.echo(f"all {len(every)} words have a usable clip in {where}")


def _show_about(path: Path) -> None:
    import tomllib

    from stridebeat.inputs import read_input

    try:
        about = tomllib.loads(read_input(path, what="voice description", max_bytes=64_000).decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        click.echo(f"{path.name}: not readable TOML ({exc}); it is optional")
        return
    shown = [f"{k}: {about[k]}" for k in ("name", "licence") if isinstance(about.get(k), str)]
    if shown:
        click.echo("; ".join(shown))


def _ask(prompt: str) -> str:
    click.echo(prompt + " ", nl=False)
    line = sys.stdin.readline() if sys.stdin is not None else ""
    return line if line else "q"  # the end of the input stops the session, as [q]uit does


@voice_group.command("record")
@click.argument("folder", metavar="FOLDER", type=click.Path(file_okay=False, path_type=Path))
@click.option("--words", metavar="W1,W2", help="Record only these words (comma-separated); default every word.")
@click.option("--redo", is_flag=True, help="Record words that already have a usable clip too.")
@click.option("--seconds", type=float, default=2.5, show_default=True, help="Length of each take.")
@click.option("--count-in", type=int, default=3, show_default=True, help="Numbers shown before each take.")
@click.option("--device", metavar="NAME|INDEX", help="Microphone and playback device (default: the system's).")
@click.option("--no-playback", is_flag=True, help="Do not play each take back before asking.")
def record_cmd(
    folder: Path,
    words: str | None,
    redo: bool,
    seconds: float,
    count_in: int,
    device: str | None,
    no_playback: bool,
) -> None:
    """Record your own voice into FOLDER, word by word, with the microphone.

    For each word: read it, wait for the count, say it once. The take is trimmed, levelled and played back;
    then keep it (Enter or k), take it again (r), skip it (s) or stop (q). Each clip is saved whole as soon as it
    is kept, so Ctrl-C keeps every clip saved before it. Words that already have a usable clip are not asked again
    unless --redo.
    """
    from stridebeat.live.record import RecordOptions, Session, record_voice

    options = RecordOptions(seconds=seconds, count_in=count_in, device=device, play_back=not no_playback, redo=redo)
    session = Session()
    try:
        record_voice(folder, _chosen_words(words), options=options, say=click.echo, ask=_ask, session=session)
    finally:
        if session.saved or session.skipped or session.already:
            click.echo(
                f"saved {len(session.saved)} clip(s) in {folder}"
                + (f"; skipped: {', '.join(session.skipped)}" if session.skipped else "")
                + (f"; {len(session.already)} already usable" if session.already else "")
            )
    click.echo(f"check the folder with: stridebeat voice check {folder}")
