"""Write the terminal's /etc/utility-kiosk/config.toml from the repository's config.toml.

The repository's file documents every key at its default (emulated devices,
a log folder under the working directory).  A terminal differs in a few
values only; this swaps exactly those lines and fails when one of them is no
longer in the source, so the packaged file never drifts from the documented one.

    python3 field-config.py SOURCE DEST
"""

from __future__ import annotations

import sys
from pathlib import Path

HEADER = """\
# /etc/utility-kiosk/config.toml — this terminal's configuration.
#
# On first boot set at least: terminal.id, terminal.hall_name_zh/_en,
# backend.url (the billing system; "embedded" is the built-in simulator with
# demo accounts) and backend.terminal_secret.  Check the file with
#   kiosk check-config /etc/utility-kiosk/config.toml
# and apply it with `systemctl restart utility-kiosk`.  Upgrades keep this file.
#
"""

# (line in the repository's config.toml, line on a terminal)
FIELD_VALUES = (
    ('acceptor = "emulator"', 'acceptor = "/dev/kiosk-acceptor"'),
    ('printer = "emulator"', 'printer = "/dev/kiosk-printer"'),
    ('card_reader = "emulator"', 'card_reader = "pcsc"'),
    ('dir = "var/log"', 'dir = "/var/log/utility-kiosk"'),
    # The unit's StateDirectory (0700, the kiosk user's): journal, archive, key.
    ('data_dir = "var/data"', 'data_dir = "/var/lib/utility-kiosk"'),
    ('key_file = "var/data/journal.key"', 'key_file = "/var/lib/utility-kiosk/journal.key"'),
    ('backup_dir = "var/backup"', 'backup_dir = "/var/lib/utility-kiosk/backup"'),
)


def field_config(source: str) -> str:
    lines = source.splitlines()
    for old, new in FIELD_VALUES:
        where = [i for i, line in enumerate(lines) if line.strip() == old]
        if len(where) != 1:
            raise SystemExit(f"field-config: expected the line {old!r} once in config.toml, found it {len(where)} times")
        lines[where[0]] = new
    return HEADER + "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    source, dest = (Path(arg) for arg in argv[1:3])
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(field_config(source.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
