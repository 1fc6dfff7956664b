"""How a scanner is set up: serial speed, terminator, continuous or trigger mode, the trigger's bytes.

Validated here, at the boundary, with messages that name the wrong setting.

**Modes.**  In *continuous* mode (Honeywell "presentation"/auto-sense, Newland
"continuous" or "sense" mode) the scanner reads whatever is shown to it and
sends each code on its own; the host only listens.  In *trigger* mode the
host starts a read with a command and the scanner reads until it decodes a
code, the host stops it, or its own read time-out passes.

**Trigger commands** (the facts are from the vendors' manuals, cited in
docs/scanner.md; the bytes are data, not copied text):

* ``honeywell``: activate ``SYN T CR`` (16 54 0D), deactivate ``SYN U CR``
  (16 55 0D), in Manual/Serial Trigger mode — the same pair in the Honeywell
  N86 engine, 1900 and 4820 guides and the Datalogic/NCR/CANMAX guides that
  share that command set.
* ``gm65``: the command-trigger mode of the common embedded 2D engines sold
  under many names (Hamlet HBCS-2D100W manual §8.4): start ``7E 00 08 01 00
  02 01 AB CD``; the engine first answers ``02 00 00 01 00 33 31`` with no
  terminator, which the line assembler skips; there is no stop command (the
  engine stops after one read or its single-read time).

Zebra scanners trigger through SSI packets (START_DECODE, opcode E4h), a
framed protocol with its own acknowledgements, not a plain line: not
supported here (docs/scanner.md).  Any other scanner's bytes can be given
as ``custom`` with ``start``/``stop``/``ack`` in hex.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from drivers.scanner.lines import DEFAULT_MAX_LINE, DEFAULT_STALE_S, Terminator

# What config.toml may say after a scanner's port ("/dev/ttyACM0?mode=trigger&trigger=gm65").
SCANNER_OPTIONS = ("baudrate", "terminator", "mode", "trigger", "start", "stop", "ack")
BAUDRATES = (1200, 2400, 4800, 9600, 14400, 19200, 38400, 57600, 115200)


class ScanMode(StrEnum):
    CONTINUOUS = "continuous"
    TRIGGER = "trigger"


@dataclass(frozen=True)
class TriggerCommands:
    start: bytes
    stop: bytes = b""
    ack: bytes = b""  # what the scanner answers to ``start`` before the code, without a terminator


TRIGGER_PRESETS = {
    "honeywell": TriggerCommands(start=b"\x16T\r", stop=b"\x16U\r"),
    "gm65": TriggerCommands(start=bytes.fromhex("7E 00 08 01 00 02 01 AB CD"),
                            ack=bytes.fromhex("02 00 00 01 00 33 31")),
}


@dataclass(frozen=True)
class ScannerSettings:
    """One scanner's setup; the defaults are a Honeywell/Newland scanner out of the box on RS-232."""

    baudrate: int = 9600
    terminator: Terminator = Terminator.CR
    mode: ScanMode = ScanMode.CONTINUOUS
    trigger: TriggerCommands = TRIGGER_PRESETS["honeywell"]
    read_timeout_s: float = 5.0  # trigger mode: one read, from the command to a code, at most this long
    max_line: int = DEFAULT_MAX_LINE
    stale_s: float = DEFAULT_STALE_S

    def __post_init__(self) -> None:
        if self.baudrate not in BAUDRATES:
            raise ValueError(f"baudrate={self.baudrate}: a scanner speaks one of {BAUDRATES}")
        object.__setattr__(self, "terminator", _choice(Terminator, self.terminator, "terminator"))
        object.__setattr__(self, "mode", _choice(ScanMode, self.mode, "mode"))
        if self.mode is ScanMode.TRIGGER and not self.trigger.start:
            raise ValueError("mode=trigger needs a trigger start command")
        if not 0.5 <= self.read_timeout_s <= 60:
            raise ValueError(f"read_timeout_s={self.read_timeout_s} is outside 0.5..60 s")


def trigger_from(preset: str, start: str = "", stop: str = "", ack: str = "") -> TriggerCommands:
    """A preset's commands, or ``custom`` ones given in hex ("16 54 0D")."""
    if preset != "custom":
        if preset not in TRIGGER_PRESETS:
            raise ValueError(f"trigger={preset!r}: use one of {', '.join(TRIGGER_PRESETS)} or custom")
        return TRIGGER_PRESETS[preset]
    try:
        commands = TriggerCommands(bytes.fromhex(start), bytes.fromhex(stop), bytes.fromhex(ack))
    except ValueError:
        raise ValueError(f"trigger start/stop/ack {start!r}/{stop!r}/{ack!r}: give bytes in hex, "
                         "e.g. start='16 54 0D'") from None
    if not commands.start:
        raise ValueError("trigger=custom needs a start command in hex, e.g. '16 54 0D'")
    return commands


def _choice(kind, value, name: str):
    try:
        return kind(value)
    except ValueError:
        raise ValueError(f"{name}={value!r}: use one of {', '.join(item.value for item in kind)}") from None


def scanner_settings(options: dict[str, str]) -> ScannerSettings:
    """The ``?key=value`` options of a ``[devices] scanner`` setting → settings; ``ValueError`` names the
    option that is wrong and what it takes."""
    baudrate = options.get("baudrate", "9600")
    if not baudrate.isdigit():
        raise ValueError(f"baudrate={baudrate!r} is not a number — use one of {', '.join(map(str, BAUDRATES))}")
    mode = _choice(ScanMode, options.get("mode", ScanMode.CONTINUOUS.value), "mode")
    commands = {key: options[key] for key in ("trigger", "start", "stop", "ack") if key in options}
    if commands and mode is not ScanMode.TRIGGER:
        # A scanner set to be triggered but configured here as continuous would never read: say so now.
        one = len(commands) == 1
        raise ValueError(f"{', '.join(commands)} {'applies' if one else 'apply'} only with mode=trigger — add "
                         f"mode=trigger, or leave {'it' if one else 'them'} out for a scanner that reads by itself")
    if set(commands) - {"trigger"} and commands.get("trigger") != "custom":
        raise ValueError("start/stop/ack are the commands of trigger=custom — add trigger=custom, or use a "
                         f"preset ({', '.join(TRIGGER_PRESETS)}) without them")
    trigger = trigger_from(commands.pop("trigger", "honeywell"), **commands)
    return ScannerSettings(int(baudrate), options.get("terminator", Terminator.CR.value), mode, trigger)
