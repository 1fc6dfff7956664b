"""The ``kiosk`` command.

    kiosk run [--config PATH]          the kiosk, fullscreen (what the terminal runs)
    kiosk demo                         the kiosk on embedded defaults, for a developer's screen
    kiosk tour --out DIR               every screen and state as PNG, headless
    kiosk check-config [PATH]          validate a configuration file; exit 0 or 1
    kiosk backend-sim --port N         the backend simulator alone, on loopback
    kiosk diag acceptor --port URL     test the banknote acceptor from the terminal
    kiosk diag printer --device URL    the printer's status, or a test slip
    kiosk diag card (--list | --reader NAME)   the PC/SC readers, or the card in one
    kiosk diag scanner --port URL      what the barcode/QR scanner reads, and what it is
    kiosk journal report [--since DAY]  cash box since the last collection, and the payments

Qt is imported only by the commands that draw, so ``check-config`` and
``backend-sim`` work on a machine without a display or Qt's libraries.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from kiosk.config import ConfigError, KioskConfig, load_config, load_config_for_run

NO_DISPLAY = (
    "kiosk: no display here (neither DISPLAY nor WAYLAND_DISPLAY is set) — "
    "run `make tour` to save every screen as PNG instead"
)


# The journal, its backups, the key, the device archive and the log hold
# payments and personal data: whatever this process creates is its user's
# alone, whatever umask it was started with (finding 10).
PRIVATE_UMASK = 0o077


def main(argv: list[str] | None = None) -> int:
    os.umask(PRIVATE_UMASK)  # first, before any command can create a file
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(argv)
    args.argv = argv  # a restart asked for on the maintenance screen starts the same command again
    return args.handler(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", description="Utility self-service kiosk")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    # Added in this order, so ``kiosk --help`` lists them as the docstring above does.
    _add_kiosk_commands(commands)
    _add_diag_commands(commands.add_parser("diag", help="test a device from the terminal"))
    _add_journal_commands(commands.add_parser("journal", help="the money journal: cash box and payments"))
    _add_maintenance_commands(commands.add_parser("maintenance", help="maintenance accounts and the audit log"))
    return parser


def _add_kiosk_commands(commands) -> None:
    """run, demo, tour, check-config and backend-sim: the kiosk itself and its developer tools."""
    run = commands.add_parser("run", help="run the kiosk fullscreen")
    run.add_argument("--config", help="configuration file (default: embedded defaults, or $KIOSK_CONFIG)")
    _add_window_options(run)
    run.set_defaults(handler=_run, demo=False)

    demo = commands.add_parser("demo", help="run the kiosk on embedded defaults, cursor shown")
    demo.add_argument("--config", help="configuration file (default: embedded defaults)")
    _add_window_options(demo)
    demo.set_defaults(handler=_run, demo=True)

    tour = commands.add_parser("tour", help="save every screen and state as PNG, headless")
    tour.add_argument("--out", required=True, help="directory for the PNG files")
    tour.add_argument("--lang", choices=("zh", "en", "all"), default="all")
    tour.add_argument("--size", default="1920x1080", type=_size, help="WIDTHxHEIGHT (default 1920x1080)")
    tour.set_defaults(handler=_tour)

    check = commands.add_parser("check-config", help="validate a configuration file")
    check.add_argument("path", nargs="?", default="config.toml")
    check.set_defaults(handler=_check_config)

    sim = commands.add_parser("backend-sim", help="run the backend simulator alone on loopback")
    sim.add_argument("--port", type=int, default=8765)
    sim.add_argument("--host", default="127.0.0.1", help="listen address (keep it on loopback)")
    sim.set_defaults(handler=_backend_sim)


def _add_diag_commands(diag: argparse.ArgumentParser) -> None:
    """``kiosk diag acceptor|printer|card|scanner``: one device tested from the terminal."""
    diag_devices = diag.add_subparsers(required=True, metavar="DEVICE")
    acceptor = diag_devices.add_parser("acceptor", help="banknote acceptor (ID-003): status, version, take notes")
    acceptor.add_argument("--port", required=True, help="serial port or pyserial URL, e.g. /dev/ttyS0")
    acceptor.add_argument("--take-notes", type=int, metavar="N", help="enable intake and stack up to N notes")
    acceptor.add_argument("--timeout", type=float, default=10.0, metavar="S", help="seconds to wait (default 10)")
    acceptor.set_defaults(handler=_diag_acceptor)

    printer = diag_devices.add_parser("printer", help="receipt printer: its status, or a test slip")
    printer.add_argument("--device", required=True, metavar="URL",
                         help="tcp://HOST:PORT, a serial device (/dev/ttyS1, /dev/ttyUSB0?baudrate=115200) "
                              "or a write-only device file (/dev/usb/lp0)")
    printer_action = printer.add_mutually_exclusive_group(required=True)
    printer_action.add_argument("--status", dest="action", action="store_const", const="status",
                                help="print the status (paper, cover, errors)")
    printer_action.add_argument("--test-slip", dest="action", action="store_const", const="test_slip",
                                help="print a test slip in Chinese and English with a QR code")
    printer.add_argument("--timeout", type=float, default=2.0, metavar="S",
                         help="seconds to wait for each answer (default 2)")
    printer.add_argument("--columns", type=int, choices=(32, 48), default=48,
                         help="paper width in columns: 32 for 58 mm, 48 for 80 mm (default 48)")
    printer.add_argument("--config", help="configuration file for the hall name and terminal id on the test slip")
    printer.set_defaults(handler=_diag_printer)

    card = diag_devices.add_parser("card", help="the IC card reader (PC/SC)")
    what = card.add_mutually_exclusive_group(required=True)
    what.add_argument("--list", action="store_true", help="list the readers pcscd sees and whether a card is in each")
    what.add_argument("--reader", metavar="NAME",
                      help='wait for a card in reader NAME ("pcsc" = first reader) and print its ATR and account number')
    card.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for a card (default 30)")
    card.set_defaults(handler=_diag_card)

    scanner = diag_devices.add_parser("scanner", help="barcode/QR scanner: print what it reads and what it is")
    scanner.add_argument("--port", required=True, help="serial port or pyserial URL, e.g. /dev/ttyACM0")
    scanner.add_argument("--seconds", type=float, default=20.0, metavar="N", help="seconds to read (default 20)")
    scanner.add_argument("--baudrate", type=int, default=9600)
    scanner.add_argument("--terminator", choices=("cr", "lf", "crlf"), default="cr")
    scanner.add_argument("--mode", choices=("continuous", "trigger"), default="continuous")
    scanner.add_argument("--trigger", choices=("honeywell", "gm65"), default="honeywell",
                         help="trigger commands for --mode trigger (default honeywell: SYN T CR / SYN U CR)")
    scanner.set_defaults(handler=_diag_scanner)


def _add_journal_commands(journal: argparse.ArgumentParser) -> None:
    """``kiosk journal report|check|restore|new``: the money journal, read or put back."""
    journal_commands = journal.add_subparsers(required=True, metavar="ACTION")
    report = journal_commands.add_parser("report", help="cash box since the last collection, and the day's payments")
    report.add_argument("--config", help="configuration file (default: embedded defaults, or $KIOSK_CONFIG)")
    report.add_argument("--since", type=_date, metavar="YYYY-MM-DD",
                        help="payments from this day on (default: today)")
    report.set_defaults(handler=_journal_report)
    check_journal = journal_commands.add_parser(
        "check", help="is the journal sound and this terminal's? (what `kiosk run` decides cash on)")
    check_journal.add_argument("--config", help="configuration file (default: embedded defaults, or $KIOSK_CONFIG)")
    check_journal.set_defaults(handler=lambda args: _journal_action(args, "check"))
    restore = journal_commands.add_parser("restore", help="put a backup back as the journal (kiosk stopped)")
    restore.add_argument("--config", help="configuration file (default: embedded defaults, or $KIOSK_CONFIG)")
    restore.add_argument("--from", dest="backup", required=True, metavar="BACKUP",
                         help="a backup file from storage.backup_dir")
    restore.set_defaults(handler=lambda args: _journal_action(args, "restore"))
    new = journal_commands.add_parser(
        "new", help="no backup at all: start an empty journal; numbers stay above every one issued")
    new.add_argument("--config", help="configuration file (default: embedded defaults, or $KIOSK_CONFIG)")
    new.add_argument("--after-loss", action="store_true", required=True,
                     help="confirm that the old journal is lost and its payments are settled elsewhere")
    new.set_defaults(handler=lambda args: _journal_action(args, "new"))


def _add_maintenance_commands(maintenance: argparse.ArgumentParser) -> None:
    """``kiosk maintenance set-pin|audit``: who may open the maintenance screen, and what they did."""
    actions = maintenance.add_subparsers(required=True, metavar="ACTION")
    set_pin = actions.add_parser("set-pin", help="create an account or give it a new PIN (asked twice, no echo)")
    set_pin.add_argument("--config", help="configuration file (default: embedded defaults, or $KIOSK_CONFIG)")
    set_pin.add_argument("--user", required=True, help="the account's name, e.g. wang.li")
    set_pin.add_argument("--role", required=True, choices=("technician", "collector", "supervisor"))
    set_pin.set_defaults(handler=lambda args: _maintenance(args, "set-pin"))
    audit = actions.add_parser("audit", help="every maintenance action since a day (default: today)")
    audit.add_argument("--config", help="configuration file (default: embedded defaults, or $KIOSK_CONFIG)")
    audit.add_argument("--since", type=_date, metavar="YYYY-MM-DD")
    audit.set_defaults(handler=lambda args: _maintenance(args, "audit"))


def _maintenance(args: argparse.Namespace, action: str) -> int:
    config = _load(args.config or os.environ.get("KIOSK_CONFIG"))
    if config is None:
        return 1
    from kiosk import maintenance_cli

    if action == "set-pin":
        return maintenance_cli.set_pin(config, args.user, args.role)
    return maintenance_cli.audit(config, args.since)


def _add_window_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--windowed", action="store_true", help="a window instead of fullscreen")
    command.add_argument("--size", type=_size, help="window size WIDTHxHEIGHT (implies --windowed)")
    command.add_argument(
        "--exit-when-ready", action="store_true",
        help="print the time to the interactive home screen and exit (for bench/startup.py)",
    )


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT, e.g. 1920x1080") from None
    if not (320 <= width <= 7680 and 240 <= height <= 4320):
        raise argparse.ArgumentTypeError(f"{text!r} is out of range (320x240 to 7680x4320)")
    return width, height


def _date(text: str):
    import datetime

    try:
        return datetime.datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day as YYYY-MM-DD, e.g. 2026-11-23") from None


def _journal_report(args: argparse.Namespace) -> int:
    return _journal_action(args, "report")


def _journal_action(args: argparse.Namespace, action: str) -> int:
    config = _load(args.config or os.environ.get("KIOSK_CONFIG"))
    if config is None:
        return 1
    from kiosk import journal_cli

    if action == "report":
        return journal_cli.report(config, args.since)
    if action == "restore":
        return journal_cli.restore(config, args.backup)
    if action == "new":
        return journal_cli.new_after_loss(config)
    return journal_cli.check(config)


def _load(path: str | None, *, for_run: bool = False) -> KioskConfig | None:
    """The configuration, or None after printing every problem; ``for_run`` adds
    what ``kiosk run`` needs on disk (the same checks as ``kiosk check-config``)."""
    try:
        return load_config_for_run(path) if for_run else load_config(path)
    except ConfigError as error:
        print(error, file=sys.stderr)
        print("kiosk: not started — fix what is listed above "
              "(`kiosk check-config PATH` checks a file without starting)", file=sys.stderr)
        return None


def _check_config(args: argparse.Namespace) -> int:
    try:
        config = load_config_for_run(args.path)
    except ConfigError as error:
        print(error, file=sys.stderr)
        count = len(error.problems)
        print(f"{args.path}: {count} problem{'s' if count != 1 else ''} — the kiosk will not start with this file",
              file=sys.stderr)
        return 1
    print(f"{config.source}: ok — terminal {config.terminal.id}, "
          f"{len(config.utilities)} utilities ({', '.join(u.id for u in config.utilities)}), "
          f"backend {config.backend.url}")
    return 0


def _has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _run(args: argparse.Namespace) -> int:
    config = _load(args.config or os.environ.get("KIOSK_CONFIG"), for_run=True)
    if config is None:
        return 1
    if not _has_display():
        print(NO_DISPLAY, file=sys.stderr)
        return 2
    from app.runtime import EXIT_RESTART, run_kiosk  # Qt from here on

    code = run_kiosk(
        config,
        demo=args.demo,
        windowed=args.windowed or args.size is not None,
        size=args.size,
        exit_when_ready=args.exit_when_ready,
    )
    if code == EXIT_RESTART and not os.environ.get("INVOCATION_ID"):
        # "Restart the kiosk" on the maintenance screen: systemd (which sets INVOCATION_ID)
        # starts the unit again by itself (Restart=always); run by hand, the kiosk starts itself anew.
        sys.stdout.flush()
        os.execv(sys.executable, [sys.executable, "-m", "app.cli", *args.argv])
    return code


def _tour(args: argparse.Namespace) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from app.tour import run_tour

    languages = ("zh", "en") if args.lang == "all" else (args.lang,)
    saved = run_tour(Path(args.out), languages, args.size)
    print(f"kiosk tour: {len(saved)} screens saved in {args.out}")
    return 0


def _backend_sim(args: argparse.Namespace) -> int:
    from kiosk.backend.simulator import run_simulator

    run_simulator(args.port, host=args.host)
    return 0


def _diag_acceptor(args: argparse.Namespace) -> int:
    from drivers.id003.diag import run_diag

    return run_diag(args.port, args.take_notes, args.timeout)


def _diag_printer(args: argparse.Namespace) -> int:
    config = _load(args.config or os.environ.get("KIOSK_CONFIG"))
    if config is None:
        return 2
    from drivers.escpos.diag import run_diag

    return run_diag(args.device, args.action, timeout_s=args.timeout, columns=args.columns,
                    hall=config.terminal.hall_name_zh, hall_en=config.terminal.hall_name_en,
                    terminal_id=config.terminal.id)


def _diag_card(args: argparse.Namespace) -> int:
    from drivers.pcsc.diag import run_diag

    return run_diag("list" if args.list else "read", args.reader, args.timeout)


def _diag_scanner(args: argparse.Namespace) -> int:
    from drivers.scanner.diag import run_diag
    from drivers.scanner.settings import ScannerSettings, trigger_from

    try:
        settings = ScannerSettings(args.baudrate, args.terminator, args.mode, trigger_from(args.trigger))
    except ValueError as error:
        print(f"kiosk diag scanner: {error}", file=sys.stderr)
        return 1
    return run_diag(args.port, args.seconds, settings)


if __name__ == "__main__":
    sys.exit(main())
