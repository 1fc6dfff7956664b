"""The repair record form of the maintenance screen, without Qt.

A repair record says which device, what was done (required), the parts used,
and which of the device's faults it deals with.  The kiosk has no keyboard and
no IME, so the technician chooses preset phrases (chips, in Chinese and
English from the catalogue) and types anything else on the on-screen text pad
(Latin letters and digits).  What is stored is each phrase's stable key and
its English words (``cleared_jam: Cleared a note jam``), then the typed text:
the record reads the same on every terminal, in every log viewer, and a
report can count phrases by key.

:meth:`RepairForm.save` (blocking: a worker's call) writes the record to the
device archive — the faults it names are closed in the same transaction — and
audits it.  A record that cannot be written keeps everything the technician
entered, with a message saying why, so nothing is typed twice.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Callable

from drivers.status import ACCEPTOR, CARD_READER, PRINTER, DeviceName
from kiosk.i18n import Translator
from kiosk.staff_notice import Notice
from offline_store.device_archive import NOTE_MAX, PARTS_MAX, FaultRecord

log = logging.getLogger("kiosk.maintenance.repairs")

FAULTS_OFFERED = 12  # the newest faults no repair names yet; older ones are history

# What was done, per device: the stable key and its catalogue entry.
WHAT_WAS_DONE: dict[DeviceName, tuple[tuple[str, str], ...]] = {
    ACCEPTOR: (("cleared_jam", "maint.repair.what.cleared_jam"),
               ("cleaned_sensors", "maint.repair.what.cleaned_sensors"),
               ("replaced_belt", "maint.repair.what.replaced_belt"),
               ("reseated_cash_box", "maint.repair.what.reseated_cash_box"),
               ("replaced_cable", "maint.repair.what.replaced_cable"),
               ("replaced_unit", "maint.repair.what.replaced_unit")),
    PRINTER: (("loaded_paper", "maint.repair.what.loaded_paper"),
              ("closed_cover", "maint.repair.what.closed_cover"),
              ("cleared_cutter", "maint.repair.what.cleared_cutter"),
              ("cleaned_head", "maint.repair.what.cleaned_head"),
              ("replaced_cable", "maint.repair.what.replaced_cable"),
              ("replaced_unit", "maint.repair.what.replaced_unit")),
    CARD_READER: (("cleaned_contacts", "maint.repair.what.cleaned_contacts"),
                  ("replugged_usb", "maint.repair.what.replugged_usb"),
                  ("restarted_pcscd", "maint.repair.what.restarted_pcscd"),
                  ("replaced_cable", "maint.repair.what.replaced_cable"),
                  ("replaced_unit", "maint.repair.what.replaced_unit")),
}
PARTS: dict[DeviceName, tuple[tuple[str, str], ...]] = {
    ACCEPTOR: (("belt", "maint.repair.part.belt"), ("roller", "maint.repair.part.roller"),
               ("sensor", "maint.repair.part.sensor"), ("cash_box_lock", "maint.repair.part.cash_box_lock"),
               ("serial_cable", "maint.repair.part.serial_cable")),
    PRINTER: (("paper_roll", "maint.repair.part.paper_roll"), ("cutter", "maint.repair.part.cutter"),
              ("print_head", "maint.repair.part.print_head"), ("usb_cable", "maint.repair.part.usb_cable")),
    CARD_READER: (("usb_cable", "maint.repair.part.usb_cable"), ("reader", "maint.repair.part.reader")),
}

_EN = Translator("en")


class TextField(StrEnum):
    """Which text the pad types into."""

    NOTE = "note"
    PARTS = "parts"


@dataclass(frozen=True)
class Choice:
    key: str
    label_key: str  # catalogue key of its words
    chosen: bool


@dataclass(frozen=True)
class FaultChoice:
    fault: FaultRecord
    chosen: bool


@dataclass(frozen=True)
class RepairFormView:
    device: DeviceName
    devices: tuple[DeviceName, ...]
    what: tuple[Choice, ...]
    parts: tuple[Choice, ...]
    free_note: str
    free_parts: str
    typing_into: TextField
    faults: tuple[FaultChoice, ...]
    faults_loaded: bool
    notice: Notice | None
    busy: bool
    saved_id: int | None  # the record just written

    @property
    def text_typed(self) -> str:
        return self.free_note if self.typing_into is TextField.NOTE else self.free_parts


@dataclass
class _Form:
    device: DeviceName
    what: set[str] = field(default_factory=set)
    parts: set[str] = field(default_factory=set)
    free_note: str = ""
    free_parts: str = ""
    typing_into: TextField = TextField.NOTE
    faults: tuple[FaultRecord, ...] = ()
    faults_loaded: bool = False
    chosen_faults: set[int] = field(default_factory=set)
    notice: Notice | None = None
    busy: bool = False
    saved_id: int | None = None


def stored_text(keys: set[str], presets: tuple[tuple[str, str], ...], free: str) -> str:
    """Chosen phrases as ``key: English words`` in the presets' order, then the typed text."""
    phrases = [f"{key}: {_EN(label)}" for key, label in presets if key in keys]
    if free.strip():
        phrases.append(free.strip())
    return "; ".join(phrases)


class RepairForm:
    def __init__(self, archive: Callable[[], object], audit, user: str, devices: tuple[str, ...],
                 on_change: Callable[[RepairFormView], None] | None = None) -> None:
        """``archive()`` gives the DeviceArchive (``ArchiveWriter.opened``); ``devices`` the fitted ones."""
        if not devices:
            raise ValueError("a repair form needs at least one fitted device")
        self._archive = archive
        self._audit = audit
        self._user = user
        self._devices = tuple(DeviceName(d) for d in devices)
        self._on_change = on_change or (lambda _view: None)
        self._lock = threading.RLock()  # view() is built under it, inside changes too
        self._form = _Form(self._devices[0])

    def view(self) -> RepairFormView:
        with self._lock:
            f = self._form
            return RepairFormView(
                f.device, self._devices,
                tuple(Choice(k, label, k in f.what) for k, label in WHAT_WAS_DONE[f.device]),
                tuple(Choice(k, label, k in f.parts) for k, label in PARTS[f.device]),
                f.free_note, f.free_parts, f.typing_into,
                tuple(FaultChoice(fault, fault.id in f.chosen_faults) for fault in f.faults), f.faults_loaded,
                f.notice, f.busy, f.saved_id)

    def _change(self, **changes) -> RepairFormView:
        with self._lock:
            for name, value in changes.items():
                setattr(self._form, name, value)
            view = self.view()
        self._on_change(view)
        return view

    # -- taps (GUI thread) -----------------------------------------------------------
    def select_device(self, device: str) -> RepairFormView:
        """Another device: everything chosen for the last one is dropped (it does not fit this one)."""
        device = DeviceName(device)
        if device not in self._devices:
            return self._change(notice=Notice("maint.devices.not_fitted", "error"))
        with self._lock:
            if device == self._form.device:
                return self.view()
        return self._change(device=device, what=set(), parts=set(), chosen_faults=set(), faults=(),
                            faults_loaded=False, notice=None, saved_id=None)

    def toggle_what(self, key: str) -> RepairFormView:
        return self._toggle("what", key, {k for k, _ in WHAT_WAS_DONE[self.view().device]})

    def toggle_part(self, key: str) -> RepairFormView:
        return self._toggle("parts", key, {k for k, _ in PARTS[self.view().device]})

    def toggle_fault(self, fault_id: int) -> RepairFormView:
        return self._toggle("chosen_faults", fault_id, {f.fault.id for f in self.view().faults})

    def _toggle(self, name: str, key, offered: set) -> RepairFormView:
        if key not in offered:
            return self.view()  # a stale tap from a page drawn for another device
        with self._lock:
            chosen = set(getattr(self._form, name)) ^ {key}
        return self._change(**{name: chosen, "notice": None, "saved_id": None})

    def type_into(self, text_field: str) -> RepairFormView:
        return self._change(typing_into=TextField(text_field))

    def set_typed(self, text: str) -> RepairFormView:
        """The text pad's whole text, for the field it types into."""
        name = "free_note" if self.view().typing_into is TextField.NOTE else "free_parts"
        with self._lock:
            if getattr(self._form, name) == text:
                return self.view()
        return self._change(**{name: text, "notice": None, "saved_id": None})

    def wipe(self) -> RepairFormView:
        """Logout: forget everything entered."""
        with self._lock:
            self._form = _Form(self._devices[0])
        return self._change()

    # -- blocking (a worker) ------------------------------------------------------------
    def load(self) -> RepairFormView:
        """The device's faults a repair can name: open ones, and those recovered from without a record."""
        device = self.view().device
        try:
            faults = tuple(self._archive().unrepaired_faults(device, FAULTS_OFFERED))
        except Exception as error:  # noqa: BLE001 - the form still works without fault choices
            log.exception("device archive could not be read")
            return self._change(notice=Notice("maint.devices.archive_unreadable", "error", (("error", error),)))
        with self._lock:
            if self._form.device != device:
                return self.view()
            chosen = self._form.chosen_faults & {fault.id for fault in faults}
        return self._change(faults=faults, faults_loaded=True, chosen_faults=chosen)

    def save(self) -> RepairFormView:
        """Check, write to the archive (closing the chosen faults), audit; the form is empty after."""
        with self._lock:
            f = self._form
            if f.busy:
                return self.view()
            device, clears = f.device, tuple(sorted(f.chosen_faults))
            note = stored_text(f.what, WHAT_WAS_DONE[device], f.free_note)
            parts = stored_text(f.parts, PARTS[device], f.free_parts)
        problem = _problem(note, parts)
        if problem is not None:
            return self._change(notice=problem)
        self._change(busy=True, notice=None)
        what = f"{device}: {note}" + (f" | parts: {parts}" if parts else "") + (f" | clears: {list(clears)}"
                                                                               if clears else "")
        try:
            repair_id = self._archive().record_repair(device, self._user, note, parts=parts, clears=clears)
        except ValueError as refused:  # the archive's own check: a fault of another device, say
            self._audit_safely(what, f"refused: {refused}")
            return self._change(busy=False, notice=Notice("maint.repair.refused", "error", (("detail", refused),)))
        except Exception as error:  # noqa: BLE001 - a disk that fails: say so, keep what was entered
            log.exception("repair record not written", extra={"record": what})
            self._audit_safely(what, f"failed: {error}")
            return self._change(busy=False, notice=Notice("maint.repair.failed", "error", (("error", error),)))
        self._audit_safely(what, f"ok #{repair_id}")
        log.info("repair recorded", extra={"id": repair_id, "device": device, "clears": list(clears)})
        with self._lock:
            self._form = _Form(device, faults=self._form.faults, faults_loaded=self._form.faults_loaded)
        self._change(saved_id=repair_id, notice=Notice("maint.repair.saved", "ok",
                                                       (("number", repair_id), ("count", len(clears)))))
        return self.load()

    def _audit_safely(self, what: str, result: str) -> None:
        try:
            self._audit.record(self._user, "repair", what, result)
        except Exception:  # noqa: BLE001 - the log keeps it
            log.exception("maintenance audit not written", extra={"what": what, "result": result})


def _problem(note: str, parts: str) -> Notice | None:
    """What keeps the record from being saved, in the technician's words; None when it may be."""
    if not note:
        return Notice("maint.repair.need_what", "error")
    if len(note) > NOTE_MAX:
        return Notice("maint.repair.note_too_long", "error", (("length", len(note)), ("limit", NOTE_MAX)))
    if len(parts) > PARTS_MAX:
        return Notice("maint.repair.parts_too_long", "error", (("length", len(parts)), ("limit", PARTS_MAX)))
    return None
