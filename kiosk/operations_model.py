"""The operations page's model: outbox and "Sync now", card purchases to follow, out of service / back,
service hours today, log export, restart.

Qt-free.  Every public method but :meth:`OperationsModel.wipe` may block (the
journal, the sync worker's answer, a USB stick), so the application layer
runs them on a worker thread, one at a time, and renders the
:class:`OperationsView` each returns.  Every action is in the audit log:
``sync``, ``export`` and ``restart`` here, ``out_of_service`` and
``back_in_service`` by the switch itself, ``hours_today``, ``closed_today``
and ``hours_cleared`` by the hours keeper (so the console and tests that use
them alone are audited too).

The reason for putting the machine out is a preset phrase (its stable code
and English words, so it reads the same in any log) and/or words typed on
the Latin text pad; Chinese comes from the phrases, never from typing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Callable

from kiosk.i18n import Translator
from kiosk.log_export import ExportFailed, ExportResult, ExportTarget, export_logs, export_targets, human_size
from kiosk.maintenance_audit import Audit
from kiosk.maintenance_notice import Notice, notice
from kiosk.outbox_view import SYNC_WAIT_S, OutboxView, SyncOutcome, SyncSource, outbox_view, sync_now
from kiosk.purchase_view import PurchaseView, purchase_view, wait_purchase_sync, wake_purchase_sync
from kiosk.service_hours import HoursRefused, HoursToday, ServiceHoursKeeper, hours_text
from kiosk.service_switch import ReasonRefused, ServiceSwitch, SwitchState
from offline_store.journal import MoneyJournal

if TYPE_CHECKING:
    from kiosk.config import KioskConfig


@dataclass(frozen=True)
class ReasonPreset:
    code: str  # stored at the start of the reason: "device_repair: Device repair"
    key: str  # its words on the page (the English ones are also what is stored)


REASON_PRESETS = (
    ReasonPreset("device_repair", "maint.ops.reason.device_repair"),
    ReasonPreset("cash_collection", "maint.ops.reason.cash_collection"),
    ReasonPreset("network_work", "maint.ops.reason.network_work"),
    ReasonPreset("power_work", "maint.ops.reason.power_work"),
    ReasonPreset("software_update", "maint.ops.reason.software_update"),
    ReasonPreset("hall_closed", "maint.ops.reason.hall_closed"),
)
_PRESETS = {preset.code: preset for preset in REASON_PRESETS}
_ENGLISH = Translator("en")


@dataclass(frozen=True)
class OperationsView:
    outbox: OutboxView | None  # None: the money journal is not open (nothing to show, nothing to send)
    switch: SwitchState
    reason_preset: ReasonPreset | None  # the phrase the current reason starts with
    reason_words: str  # the rest of the current reason (typed words, or all of it)
    presets: tuple[ReasonPreset, ...]
    targets: tuple[ExportTarget, ...]  # where the logs can go now
    notice: Notice | None = None  # what the last action did
    last_export: ExportResult | None = None
    busy: bool = False  # set by the application layer (dataclasses.replace) while an action runs
    hours: HoursToday | None = None  # None: this kiosk keeps no service hours
    purchases: PurchaseView | None = None  # card purchases to follow; None: no journal
    purchase_notice: Notice | None = None  # what "Sync now" did with the card purchases' postings


def compose_reason(preset_code: str, words: str) -> str:
    """The stored reason: ``"<code>: <English phrase>"``, then `` - <words>`` when typed; or the words alone."""
    words = " ".join(words.split())
    preset = _PRESETS.get(preset_code)
    if preset is None:
        return words
    phrase = f"{preset.code}: {_ENGLISH(preset.key)}"
    return f"{phrase} - {words}" if words else phrase


def split_reason(reason: str) -> tuple[ReasonPreset | None, str]:
    """The preset a stored reason starts with, and the words after it."""
    code, colon, rest = reason.partition(": ")
    preset = _PRESETS.get(code) if colon else None
    if preset is None:
        return None, reason
    phrase = _ENGLISH(preset.key)
    words = rest[len(phrase):] if rest.startswith(phrase) else rest
    return preset, words.removeprefix(" - ").strip()


class OperationsModel:
    def __init__(self, *, journal: MoneyJournal | None, sync: SyncSource | None, switch: ServiceSwitch,
                 audit: Audit, log_dir: str, export_dir: str, terminal_id: str,
                 clock: Callable[[], float] = time.time, sync_wait_s: float = SYNC_WAIT_S,
                 hours: ServiceHoursKeeper | None = None, purchase_sync: SyncSource | None = None) -> None:
        self.journal = journal
        self.hours = hours
        self.sync = sync
        self.purchase_sync = purchase_sync  # None: this kiosk sells no card top-ups
        self.switch = switch
        self.audit = audit
        self.log_dir = log_dir
        self.export_dir = export_dir
        self.terminal_id = terminal_id
        self.clock = clock
        self.sync_wait_s = sync_wait_s
        self._notice: Notice | None = None
        self._purchase_notice: Notice | None = None  # said after ``_sync_said``, while that is the notice
        self._sync_said: Notice | None = None
        self._last_export: ExportResult | None = None

    @classmethod
    def from_config(cls, config: KioskConfig, *, journal: MoneyJournal | None, sync: SyncSource | None,
                    switch: ServiceSwitch, audit: Audit, clock: Callable[[], float] = time.time,
                    hours: ServiceHoursKeeper | None = None,
                    purchase_sync: SyncSource | None = None) -> OperationsModel:
        """Where the logs are, where sticks are mounted, and the terminal's id, from the configuration."""
        return cls(journal=journal, sync=sync, switch=switch, audit=audit, log_dir=config.logging.dir,
                   export_dir=config.maintenance.export_dir, terminal_id=config.terminal.id, clock=clock,
                   hours=hours, purchase_sync=purchase_sync)

    def view(self) -> OperationsView:
        """What the page shows now (reads the journal and looks for sticks: blocking)."""
        state = self.switch.state()
        preset, words = split_reason(state.reason) if state.out else (None, "")
        now = self.clock()
        outbox = outbox_view(self.journal, now) if self.journal is not None else None
        purchases = purchase_view(self.journal, now) if self.journal is not None else None
        return OperationsView(outbox, state, preset, words, REASON_PRESETS, tuple(export_targets(self.export_dir)),
                              self._notice, self._last_export,
                              hours=self.hours.today() if self.hours is not None else None,
                              purchases=purchases,
                              purchase_notice=self._purchase_notice if self._notice is self._sync_said else None)

    # -- the service switch -------------------------------------------------------------
    def put_out(self, user: str, preset_code: str, words: str) -> OperationsView:
        try:
            self.switch.put_out(compose_reason(preset_code, words), user)
        except ReasonRefused as refused:
            self._notice = notice(refused.key, "error", **refused.values)
        else:
            self._notice = notice("maint.ops.switch.done_out", "ok")
        return self.view()

    def put_back(self, user: str) -> OperationsView:
        was_out = self.switch.state().out
        self.switch.put_back(user)
        self._notice = notice("maint.ops.switch.done_back" if was_out else "maint.ops.switch.was_in", "ok")
        return self.view()

    # -- service hours today (the keeper audits) ----------------------------------------------
    def set_hours_today(self, user: str, open_text: str, close_text: str) -> OperationsView:
        try:
            override = self._keeper().set_today(open_text, close_text, user)
        except HoursRefused as refused:
            self._notice = notice(refused.key, "error", **refused.values)
        else:
            self._notice = notice("maint.hours.done_set", "ok", hours=hours_text(override.hours))
        return self.view()

    def close_today(self, user: str) -> OperationsView:
        self._keeper().close_today(user)
        self._notice = notice("maint.hours.done_closed", "ok")
        return self.view()

    def clear_hours_today(self, user: str) -> OperationsView:
        keeper = self._keeper()
        had = keeper.override() is not None
        keeper.clear_today(user)
        self._notice = notice("maint.hours.done_cleared" if had else "maint.hours.was_usual", "ok")
        return self.view()

    def _keeper(self) -> ServiceHoursKeeper:
        if self.hours is None:  # the page offers no hours then; a call anyway is a wiring mistake
            raise RuntimeError("this kiosk keeps no service hours")
        return self.hours

    # -- the outbox ------------------------------------------------------------------------
    def sync_now(self, user: str) -> OperationsView:
        if self.journal is None:
            self.audit.record(user, "sync", "outbox", "refused: the money journal is not open")
            self._notice = notice("maint.ops.outbox.journal_off", "error")
            return self.view()
        waiting = len(self.journal.outbox())
        # Woken first, the purchase worker drains its outbox while the payments' sync waits.
        started = wake_purchase_sync(self.journal, self.purchase_sync)
        began = time.monotonic()
        outcome = sync_now(self.journal, self.sync, wait_s=self.sync_wait_s)
        self.audit.record(user, "sync", f"{waiting} waiting", _sync_result(outcome))
        self._notice = self._sync_notice(outcome, waiting)
        self._purchase_notice = None
        if self.purchase_sync is not None:
            left_s = max(0.0, self.sync_wait_s - (time.monotonic() - began))
            purchases = wait_purchase_sync(self.journal, started, wait_s=left_s)
            self.audit.record(user, "sync", f"{started.waiting} card purchase postings waiting",
                              _sync_result(purchases))
            self._purchase_notice = self._purchase_sync_notice(purchases, started.waiting)
        if waiting == 0 and self._purchase_notice is not None:  # only purchases waited: say that alone
            self._notice, self._purchase_notice = self._purchase_notice, None
        self._sync_said = self._notice  # any later action's notice replaces both sentences
        return self.view()

    def _purchase_sync_notice(self, outcome: SyncOutcome, waiting_before: int) -> Notice | None:
        """A second sentence after the payments' one; none when no card purchase waited."""
        left = outcome.still_waiting
        if not outcome.running:
            return notice("maint.purchases.sync.not_running", "error", waiting=left) if left else None
        if waiting_before == 0:
            return None
        if outcome.failures:
            return notice("maint.purchases.sync.failed", "warning", code=outcome.last_error, posted=outcome.posted,
                          waiting=left)
        if not outcome.answered:
            return notice("maint.purchases.sync.no_answer", "warning", seconds=f"{self.sync_wait_s:.0f}",
                          waiting=left)
        return notice("maint.purchases.sync.done", "ok" if left == 0 else "warning", posted=outcome.posted,
                      referred=outcome.referred, waiting=left)

    def _sync_notice(self, outcome: SyncOutcome, waiting_before: int) -> Notice:
        left = outcome.still_waiting
        if not outcome.running:
            return notice("maint.ops.sync.not_running", "error", waiting=left)
        if waiting_before == 0:
            return notice("maint.ops.sync.nothing", "ok")
        if outcome.failures:
            return notice("maint.ops.sync.failed", "warning", code=outcome.last_error, posted=outcome.posted,
                          waiting=left)
        if not outcome.answered:
            return notice("maint.ops.sync.no_answer", "warning", seconds=f"{self.sync_wait_s:.0f}", waiting=left)
        return notice("maint.ops.sync.done", "ok" if left == 0 else "warning", posted=outcome.posted,
                      referred=outcome.referred, waiting=left)

    # -- log export -----------------------------------------------------------------------
    def export(self, user: str, target_path: str) -> OperationsView:
        """Export to one of the targets offered now (a path the page did not offer is refused)."""
        offered = {target.path for target in export_targets(self.export_dir)}
        try:
            if target_path not in offered:
                raise ExportFailed("maint.ops.export.target_gone", f"{target_path} is not offered (now)",
                                   {"target": target_path})
            result = export_logs(self.log_dir, target_path, self.terminal_id,
                                 now=datetime.fromtimestamp(self.clock()))
        except ExportFailed as failed:
            self.audit.record(user, "export", target_path, f"failed: {failed.detail}")
            self._notice = notice(failed.key, "error", **failed.values)
            return self.view()
        self.audit.record(user, "export", target_path,
                          f"ok: {len(result.files)} files, {result.total_bytes} bytes in {result.folder}")
        self._last_export = result
        self._notice = notice("maint.ops.export.done", "ok", count=len(result.files),
                              size=human_size(result.total_bytes), folder=result.folder)
        return self.view()

    # -- restart -------------------------------------------------------------------------
    def restart(self, user: str) -> OperationsView:
        """Audit the request; the application then exits with the code systemd restarts on."""
        self.audit.record(user, "restart", "kiosk", "requested")
        self._notice = notice("maint.ops.restart.requested", "")
        return self.view()

    def wipe(self) -> None:
        """Logout: the next person starts without the last one's messages."""
        self._notice = None
        self._purchase_notice = None
        self._last_export = None


def _sync_result(outcome: SyncOutcome) -> str:
    if not outcome.running:
        return "not sent: the sync worker is not running"
    result = (f"posted {outcome.posted}, referred {outcome.referred}, failed {outcome.failures}, "
              f"still waiting {outcome.still_waiting}")
    return result + (f" ({outcome.last_error})" if outcome.last_error else "")
