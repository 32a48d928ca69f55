"""`stridebeat races`: the reference race library, filtered by event, sex and level."""

from __future__ import annotations

import click

from stridebeat.cli import cli
from stridebeat.core.vocabulary import LEVELS, SEXES


@cli.command("races")
@click.option("--event", type=int, metavar="M", help="Race distance in metres, e.g. 400.")
@click.option("--sex", type=click.Choice(SEXES), help="M or F.")
@click.option("--level", type=click.Choice(LEVELS), help="world, national, junior or masters.")
@click.option("--sources", is_flag=True, help="Also print where each race's splits come from.")
def races_cmd(event: int | None, sex: str | None, level: str | None, sources: bool) -> None:
    """List the reference races (published splits, each with its source): names for --like and --compare.

    \b
    Examples:
      stridebeat races --event 400 --sex F
      stridebeat plan --time 51 --like van-niekerk-2016
      stridebeat plan --time 51 --compare hall-2024
    """
    from stridebeat.core.races import find_races  # the library loads when listed, not for --help

    rows = find_races(event_m=event, sex=sex, level=level)
    if not rows:
        raise click.UsageError("no race in the library matches: 'stridebeat races' lists them all")
    width = max(len(r.id) for r in rows)
    lines = [f"{'race':{width}s}  event  sex  level      final   marks (m)               athlete, competition"]
    for r in rows:
        marks = ",".join(str(m) for m in r.marks_m[:-1])
        lines.append(
            f"{r.id:{width}s}  {r.event_m:4d} m  {r.sex}   {r.level:9s} {r.final_s:7.2f}   {marks:22s}  "
            f"{r.athlete}, {r.competition}, {r.date}"
        )
        if sources:
            lines.append(f"{'':{width}s}  source: {r.source}")
    lines.append(f"{len(rows)} race{'s' if len(rows) != 1 else ''}")
    click.echo("\n".join(lines))
