"""Where the server listens, and the addresses a phone on the same network can open."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import struct
import sys

from stridebeat.errors import UsageError

LOOPBACK = "127.0.0.1"
ANY = "0.0.0.0"  # noqa: S104 - --lan asks for exactly this


def bind_socket(*, lan: bool, port: int) -> socket.socket:
    """A listening TCP socket: on 127.0.0.1 only, or on every IPv4 address with ``lan``; port 0 picks a free one.

    Raises
    ------
    UsageError
        The port is taken or not allowed.
    """
    host = ANY if lan else LOOPBACK
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"cannot listen on port {port}: {exc.strerror or exc}: give another with --port", key="port"
        ) from None
    sock.set_inheritable(True)
    return sock


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses on its networks (not loopback), found without sending anything."""
    found: list[str] = []
    with contextlib.suppress(OSError):
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET, socket.SOCK_STREAM):
            found.append(str(info[4][0]))
    if sys.platform.startswith("linux"):
        found.extend(_linux_interface_addresses())
    usable = [a for a in dict.fromkeys(found) if not ipaddress.ip_address(a).is_loopback]
    # Private addresses first: a phone on the same Wi-Fi reaches those.
    return sorted(usable, key=lambda a: not ipaddress.ip_address(a).is_private)


def _linux_interface_addresses() -> list[str]:
    import fcntl

    siocgifaddr = 0x8915
    out = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for _, name in socket.if_nameindex():
            with contextlib.suppress(OSError):
                packed = fcntl.ioctl(probe.fileno(), siocgifaddr, struct.pack("256s", name[:15].encode()))
                out.append(socket.inet_ntoa(packed[20:24]))
    return out
