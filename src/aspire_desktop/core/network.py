"""Whether the machine has a network route at all (a quiet status, not a check of the hub).

On Linux this reads the kernel's routing tables: no traffic, no waiting. Elsewhere the
UI asks Qt's network information backend instead.
"""

from __future__ import annotations

from pathlib import Path


def has_default_route(proc_net: Path = Path("/proc/net")) -> bool | None:
    """True/False from the routing tables; None when they cannot be read (not Linux)."""
    try:
        v4 = (proc_net / "route").read_text().splitlines()[1:]
    except OSError:
        return None
    for line in v4:
        fields = line.split()
        # Destination 00000000 with the gateway flag: a default route.
        if len(fields) > 3 and fields[1] == "00000000" and int(fields[3], 16) & 0x2:
            return True
    try:
        v6 = (proc_net / "ipv6_route").read_text().splitlines()
    except OSError:
        v6 = []
    for line in v6:
        fields = line.split()
        if len(fields) > 9 and fields[0] == "0" * 32 and fields[1] == "00" and fields[9] != "lo":
            return True
    return False
