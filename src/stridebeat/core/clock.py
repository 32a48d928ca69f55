"""How runners read a clock: the one formatter of times, and how the voice's durations are written."""

from __future__ import annotations


def format_time(
    seconds: float, *, places: int = 2, unit: bool = False, minutes: bool = False, whole: bool = False
) -> str:
    """A time as runners write it.

    Parameters
    ----------
    seconds : float
        The time (not negative).
    places : int
        Decimals of the seconds: 2 (``51.0`` → ``51.00``, ``65.3`` → ``1:05.30``) or 1 (``51.04`` → ``51.0``,
        ``100`` → ``1:40.0``, rounded once, to the tenth, before the minutes are split off).
    unit : bool
        Add `` s`` to a time under a minute, where the clock form does not show the unit (``51.00 s``).
    minutes : bool
        Always show minutes (``0:45.5``), as a watch does.
    whole : bool
        Leave out a fraction that is zero (``360`` → ``6:00``, ``75.5`` → ``1:15.5``).

    Returns
    -------
    str
    """
    if places == 2 and not (minutes or whole):
        if seconds < 60:
            text = f"{seconds:.2f}"
        else:
            mins, secs = divmod(seconds, 60)
            text = f"{int(mins)}:{secs:05.2f}"
    else:
        scale = 10**places
        mins_, units = divmod(round(seconds * scale), 60 * scale)
        clock = bool(mins_) or minutes
        if whole and units % scale == 0:
            secs_text = f"{units // scale:02d}" if clock else f"{units // scale}"
        else:
            secs_text = f"{units / scale:0{3 + places}.{places}f}" if clock else f"{units / scale:.{places}f}"
        text = f"{mins_}:{secs_text}" if clock else secs_text
    return text + (" s" if unit and seconds < 60 else "")


def say_duration(seconds: float) -> str:
    """``360`` → ``6 minutes``, ``90`` → ``1 minute 30 seconds``, ``30`` → ``30 seconds``."""
    minutes, secs = divmod(round(seconds), 60)
    parts = []
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    if secs or not minutes:
        parts.append(f"{secs} second{'s' if secs != 1 else ''}")
    return " ".join(parts)
