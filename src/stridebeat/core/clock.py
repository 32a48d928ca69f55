"""How runners read a clock."""

from __future__ import annotations


def format_time(seconds: float) -> str:
    """``51.0`` → ``51.00``; ``65.3`` → ``1:05.30``."""
    if seconds < 60:
        return f"{seconds:.2f}"
    minutes, secs = divmod(seconds, 60)
    return f"{int(minutes)}:{secs:05.2f}"


def say_duration(seconds: float) -> str:
    """``360`` → ``6 minutes``, ``90`` → ``1 minute 30 seconds``, ``30`` → ``30 seconds``."""
    minutes, secs = divmod(round(seconds), 60)
    parts = []
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    if secs or not minutes:
        parts.append(f"{secs} second{'s' if secs != 1 else ''}")
    return " ".join(parts)
