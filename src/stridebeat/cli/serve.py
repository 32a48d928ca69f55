"""`stridebeat serve`: the plan on the runner's phone, a page served by this computer."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from stridebeat.cli import cli

if TYPE_CHECKING:
    import uvicorn

MiB = 1 << 20


@cli.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="TCP port (0: any free).")
@click.option(
    "--lan",
    is_flag=True,
    help="Listen on the local network (not only this computer), with a random access token in the address; "
    "prints the address and a QR code for the phone.",
)
@click.option(
    "--tls",
    nargs=2,
    type=click.Path(dir_okay=False),
    metavar="CERT KEY",
    help="Serve HTTPS with this PEM certificate and private key (the phone can then keep tracks offline).",
)
def serve_cmd(port: int, lan: bool, tls: tuple[str, str] | None) -> None:
    """Serve the page: plan, render and play a track on a phone, a browser metronome, presets.

    By default only this computer can open it (http://127.0.0.1:8765/). Ctrl-C stops it.

    \b
    Examples:
      stridebeat serve
      stridebeat serve --lan
      stridebeat serve --lan --tls cert.pem key.pem
    """
    import uvicorn

    from stridebeat.serve.app import ServeOptions, create_app, new_token
    from stridebeat.serve.net import bind_socket

    token = new_token() if lan else None
    app = create_app(ServeOptions(token=token, loopback_only=not lan))
    cert, key = _tls_files(tls)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", ssl_certfile=cert, ssl_keyfile=key)
    _load(config)
    sock = bind_socket(lan=lan, port=port)
    try:
        host, bound = sock.getsockname()[:2]
        click.echo(f"listening on {host}:{bound}")
        _announce(scheme="https" if tls else "http", port=bound, token=token)
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()


def _tls_files(tls: tuple[str, str] | None) -> tuple[str | None, str | None]:
    if tls is None:
        return None, None
    from stridebeat.inputs import read_input

    for path, what in zip(tls, ("--tls certificate", "--tls key")):
        read_input(path, what=f"{what} {path}", max_bytes=MiB)  # a regular, readable file of sane size
    return tls


def _load(config: uvicorn.Config) -> None:
    import ssl

    from stridebeat.errors import UsageError

    try:
        config.load()
    except (ssl.SSLError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or str(exc)
        raise UsageError(f"--tls: cannot use that certificate and key ({reason}): give a PEM pair that match") from None


def _announce(*, scheme: str, port: int, token: str | None) -> None:
    if token is None:
        click.echo(f"open {scheme}://127.0.0.1:{port}/ (this computer only; --lan for a phone)")
        return
    import segno

    from stridebeat.serve.net import lan_addresses

    addresses = lan_addresses()
    urls = [f"{scheme}://{a}:{port}/?token={token}" for a in addresses]
    if not urls:
        click.echo(f"open {scheme}://<this computer's address>:{port}/?token={token} on the phone")
        return
    click.echo(f"on the phone (same Wi-Fi), open {urls[0]}")
    for url in urls[1:]:
        click.echo(f"  or {url}")
    if scheme == "http":
        click.echo("plain HTTP: the page plays there, but keeps nothing offline; the MP3 with chapters does (--tls)")
    segno.make(urls[0], error="m").terminal(out=sys.stdout, compact=True)
    sys.stdout.flush()
