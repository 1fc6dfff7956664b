"""What a loaded configuration is: the frozen dataclasses the kiosk reads, and the error that lists what is wrong.

This is the boundary the rest of the kiosk depends on (screens, payments,
devices read a :class:`KioskConfig`; ``kiosk check-config`` prints a
:class:`ConfigError`), so it is its own module, free of the schema, the
validation and the file-system checks that produce it: a reader of the types
need not wade through how a TOML file is judged.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass

from contract.account_number import AccountNumberRule
from drivers.device import DeviceSetting, parse_device_setting

EMBEDDED_SOURCE = "embedded defaults"


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong in a configuration file.

    ``key`` is the dotted key (``idle.countdown_s``, ``utilities[2].unit``), or
    "" when the problem is with the file as a whole (unreadable, not TOML).
    """

    key: str
    message: str


class ConfigError(Exception):
    """A configuration file that cannot be used, with every problem found in it."""

    def __init__(self, path: str, problems: tuple[ConfigProblem, ...] | list[ConfigProblem]):
        self.path = path
        self.problems = tuple(problems)
        super().__init__(path, self.problems)

    def __str__(self) -> str:
        return "\n".join(
            f"{self.path}: {p.key}: {p.message}" if p.key else f"{self.path}: {p.message}"
            for p in self.problems
        )


@dataclass(frozen=True)
class TerminalConfig:
    id: str
    hall_name_zh: str
    hall_name_en: str
    hotline: str
    languages: tuple[str, ...]
    default_language: str


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = datetime.weekday()


@dataclass(frozen=True)
class ServiceHours:
    open: datetime.time
    close: datetime.time
    days: tuple[str, ...]

    def text(self) -> str:
        return f"{self.open:%H:%M}–{self.close:%H:%M}"

    def is_open(self, moment: datetime.datetime) -> bool:
        """Whether the hall serves customers at ``moment`` (local time)."""
        return WEEKDAYS[moment.weekday()] in self.days and self.open <= moment.time() < self.close


@dataclass(frozen=True)
class IdleConfig:
    prompt_after_s: float
    countdown_s: float


@dataclass(frozen=True)
class HelpConfig:
    call_staff: bool  # "Need help?" offers to call a staff member through the backend


@dataclass(frozen=True)
class MaintenanceConfig:
    lockout_minutes: int  # an account with 5 wrong PINs in a row is locked this long
    idle_logout_s: int  # the maintenance screen logs out after this long untouched
    audit_days: int  # the audit log keeps this many days
    cash_box_notes: int  # the most notes the cash box holds: a counted figure above it is a typing slip
    export_dir: str  # where log export looks for USB sticks (each directory mounted below it), or a folder
    collection_difference_note: bool  # a collection whose count differs needs the collector's note

    def store_path(self, storage: "StorageConfig") -> str:
        return storage.path("maintenance.sqlite")


@dataclass(frozen=True)
class VoiceConfig:
    enabled: bool  # spoken prompts where the machine can speak (espeak-ng and a sound card)
    volume: int  # 0..100, where each customer starts


@dataclass(frozen=True)
class BackendConfig:
    url: str
    connect_timeout_s: float
    read_timeout_s: float
    ca_file: str
    terminal_secret: str
    startup_grace_s: float
    heartbeat_interval_s: float
    retries: int
    call_deadline_s: float  # one call, retries included, whatever the server does
    max_reply_kib: int  # the largest reply body, compressed and inflated

    @property
    def embedded(self) -> bool:
        """True when the kiosk should start the backend simulator on loopback."""
        return self.url == "embedded"


@dataclass(frozen=True)
class DevicesConfig:
    """Where each device is, parsed once from ``[devices]`` (``drivers/device.py``)."""

    acceptor: DeviceSetting
    printer: DeviceSetting
    card_reader: DeviceSetting
    # Code that builds a configuration and says nothing of a scanner has none (config.toml's default is
    # "emulator", like the other devices): a scanner only adds 被扫, so leaving it out takes nothing away.
    scanner: DeviceSetting | str = "none"

    def __post_init__(self) -> None:
        # Code that builds a configuration (tests, the tour) may say "none" or a
        # path: it is parsed here, by the same grammar as config.toml.
        for device in ("acceptor", "printer", "card_reader", "scanner"):
            value = getattr(self, device)
            if isinstance(value, str):
                object.__setattr__(self, device, parse_device_setting(device, value))


@dataclass(frozen=True)
class UiConfig:
    fullscreen: bool
    hide_cursor: bool


@dataclass(frozen=True)
class PaymentConfig:
    accepted_notes: tuple[int, ...]  # yuan
    max_payment_yuan: int  # the most one payment may take in; notes beyond it are returned
    max_prepay_yuan: int  # the most a customer may pay with nothing owed (预存)
    cash_in_prompt_after_s: float
    cash_in_timeout_s: float

    @property
    def accepted_fen(self) -> frozenset[int]:
        return frozenset(yuan * 100 for yuan in self.accepted_notes)

    def cap_fen(self, amount_due_fen: int) -> int:
        """The most this payment may take in: the bill plus the prepay allowance, within the maximum."""
        return min(self.max_payment_yuan * 100, max(0, amount_due_fen) + self.max_prepay_yuan * 100)


@dataclass(frozen=True)
class StorageConfig:
    data_dir: str
    key_file: str
    retention_days: int
    backup_dir: str
    backup_interval_h: float
    min_free_mib: int  # below this free space on the journal's file system, no cash
    reserve_mib: int  # the ballast file freed to finish a payment when the disk fills

    def path(self, name: str) -> str:
        return os.path.join(self.data_dir, name)


@dataclass(frozen=True)
class LoggingConfig:
    dir: str
    level: str
    max_bytes: int
    backups: int


@dataclass(frozen=True)
class UtilityConfig:
    id: str
    name_zh: str
    name_en: str
    unit: str
    account_length: int
    check_rule: str

    @property
    def rule(self) -> AccountNumberRule:
        return AccountNumberRule(length=self.account_length, check=self.check_rule)

    def name(self, lang: str) -> str:
        return _by_language(lang, zh=self.name_zh, en=self.name_en)


@dataclass(frozen=True)
class KioskConfig:
    source: str  # the file it was loaded from, or "embedded defaults"
    terminal: TerminalConfig
    service_hours: ServiceHours
    idle: IdleConfig
    help: HelpConfig
    voice: VoiceConfig
    maintenance: MaintenanceConfig
    backend: BackendConfig
    devices: DevicesConfig
    ui: UiConfig
    payment: PaymentConfig
    storage: StorageConfig
    logging: LoggingConfig
    utilities: tuple[UtilityConfig, ...]

    def utility(self, utility_id: str) -> UtilityConfig:
        for utility in self.utilities:
            if utility.id == utility_id:
                return utility
        configured = ", ".join(u.id for u in self.utilities)
        raise KeyError(f"utility {utility_id!r} is not configured in {self.source} (configured: {configured})")

    def hall_name(self, lang: str) -> str:
        return _by_language(lang, zh=self.terminal.hall_name_zh, en=self.terminal.hall_name_en)


def _by_language(lang: str, **texts: str) -> str:
    try:
        return texts[lang]
    except KeyError:
        raise ValueError(f"no text for language {lang!r}; the kiosk speaks {', '.join(texts)}") from None
