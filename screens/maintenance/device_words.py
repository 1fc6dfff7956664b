"""What the device page says, from its view and a translator: plain functions, no widgets.

Apart from the widget so the wording of every state can be read (and tested)
in one place.  Reason codes and the drivers' sentences are shown as they are:
they are what a technician looks up and what the archive holds.
"""

from __future__ import annotations

from datetime import datetime

from drivers.status import (AcceptorDetail, CardReaderDetail, DeviceName, DeviceState, DeviceStatus, Paper,
                            PrinterDetail, Stacker)
from kiosk.device_tests import AcceptorTestProgress, CardReadResult, PrinterTestResult
from kiosk.i18n import yuan
from kiosk.device_page import FaultRecord, RepairRecord  # the page model's records (screens do not read the store)

DEVICE_NAMES = {DeviceName.ACCEPTOR: "maint.devices.name.acceptor", DeviceName.PRINTER: "maint.devices.name.printer",
                DeviceName.CARD_READER: "maint.devices.name.card_reader"}
STATES = {DeviceState.ONLINE: "maint.devices.state.online", DeviceState.BUSY: "maint.devices.state.busy",
          DeviceState.OFFLINE: "maint.devices.state.offline",
          DeviceState.HARDWARE_ERROR: "maint.devices.state.hardware_error"}
TEST_HEADINGS = {DeviceName.ACCEPTOR: "maint.devices.test_heading.acceptor",
                 DeviceName.PRINTER: "maint.devices.test_heading.printer",
                 DeviceName.CARD_READER: "maint.devices.test_heading.card_reader"}
TEST_HINTS = {DeviceName.ACCEPTOR: "maint.devices.test_hint.acceptor",
              DeviceName.PRINTER: "maint.devices.test_hint.printer",
              DeviceName.CARD_READER: "maint.devices.test_hint.card_reader"}
TEST_BUTTONS = {DeviceName.ACCEPTOR: "maint.devices.start_test", DeviceName.PRINTER: "maint.devices.print_slip",
                DeviceName.CARD_READER: "maint.devices.read_card"}
_STACKER = {Stacker.OK: "maint.devices.stacker.ok", Stacker.FULL: "maint.devices.stacker.full",
            Stacker.OPEN: "maint.devices.stacker.open"}
_PAPER = {Paper.OK: "maint.devices.paper_ok", Paper.NEAR_END: "maint.devices.paper_near_end",
          Paper.OUT: "maint.devices.paper_out", Paper.UNKNOWN: "maint.devices.paper_unknown"}
_LINKS = {"tcp": "maint.devices.slip.link_tcp", "serial": "maint.devices.slip.link_serial",
          "file": "maint.devices.slip.link_file"}
_RETURNED = {"journal_unavailable": "maint.devices.returned.journal_unavailable",
             "note_not_accepted": "maint.devices.returned.note_not_accepted",
             "note_rejected": "maint.devices.returned.note_rejected"}
_CARD_TYPES = {"OPEN_ACCOUNT": "maint.devices.card_type.open_account",
               "PURCHASE": "maint.devices.card_type.purchase",
               "REPLACEMENT": "maint.devices.card_type.replacement"}


def when(at: float | None) -> str:
    """Local time to the minute, as the hall's clock shows it."""
    return datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M") if at else ""


def yes_no(tr, value: bool) -> str:
    return tr("maint.devices.yes" if value else "maint.devices.no")


def state_text(tr, status: DeviceStatus | None) -> str:
    if status is None:
        return tr("maint.devices.state.unknown")
    return tr(STATES[status.state])


def detail_line(tr, status: DeviceStatus | None) -> str:
    """The device's own sensors, in the technician's language."""
    detail = status.device_detail if status is not None else None
    if isinstance(detail, AcceptorDetail):
        return tr("maint.devices.acceptor_detail", stacker=tr(_STACKER[detail.stacker]),
                  jammed=yes_no(tr, detail.jammed), escrow=yes_no(tr, detail.note_in_escrow))
    if isinstance(detail, PrinterDetail):
        return tr("maint.devices.printer_detail", paper=tr(_PAPER[detail.paper]),
                  cover=tr("maint.devices.cover_open" if detail.cover_open else "maint.devices.cover_closed"))
    if isinstance(detail, CardReaderDetail):
        reader = detail.reader_name if detail.reader_present else tr("maint.devices.reader_absent")
        return tr("maint.devices.reader_detail", reader=reader or "-",
                  card=tr("maint.devices.card_in" if detail.card_present else "maint.devices.card_out"))
    return ""


def fault_line(fault: FaultRecord) -> str:
    return f"#{fault.id}  {when(fault.raised_at)}  {fault.reason or fault.state}"


def history_line(tr, entry: FaultRecord | RepairRecord) -> tuple[str, str]:
    """(first line, second line) of one history entry."""
    if isinstance(entry, RepairRecord):
        title = f"{when(entry.at)}  {tr('maint.devices.history.repair')}  {entry.technician}"
        parts = [entry.note]
        if entry.parts:
            parts.append(tr("maint.devices.history.parts", parts=entry.parts))
        if entry.clears:
            parts.append(tr("maint.devices.history.clears", ids=", ".join(f"#{i}" for i in entry.clears)))
        return title, "  ·  ".join(parts)
    cleared = (tr("maint.devices.history.cleared", time=when(entry.cleared_at)) if entry.cleared_at
               else tr("maint.devices.history.still_open"))
    title = f"{when(entry.at)}  {tr('maint.devices.history.fault')} #{entry.id}  {entry.reason or entry.state}"
    return title, f"{cleared}  ·  {entry.detail}"


def acceptor_lines(tr, progress: AcceptorTestProgress | None) -> list[str]:
    if progress is None:
        return []
    lines = [tr("maint.devices.test_notes", count=progress.count, amount=yuan(progress.total_fen))]
    if progress.note_in_escrow:
        lines.append(tr("maint.devices.note_in_escrow"))
    if progress.returned_reason:
        lines.append(tr(_RETURNED.get(progress.returned_reason, "maint.devices.returned.note_rejected")))
    return lines


def printer_lines(tr, result: PrinterTestResult | None) -> list[str]:
    if result is None:
        return []
    facts = result.facts
    lines = [tr("maint.devices.printer_facts", link=tr(_LINKS.get(facts.link_kind, "maint.devices.slip.link_file")),
                answers=yes_no(tr, facts.answers_status), paper=tr(_PAPER[facts.paper]))]
    if result.reason:
        lines.append(tr("maint.devices.reason", reason=result.reason))
    if result.outcome == "ok" and not result.confirmed:
        lines.append(tr("maint.devices.printer_unconfirmed"))
    if result.detail:
        lines.append(result.detail)
    return lines


def card_lines(tr, result: CardReadResult | None, utility_name) -> list[str]:
    """``utility_name(id)`` names a utility in the screen's language (RenderContext.utility_name)."""
    if result is None:
        return []
    if result.outcome != "card":
        return [line for line in (tr("maint.devices.reason", reason=result.reason) if result.reason else "",
                                  result.detail) if line]
    try:
        utility = utility_name(result.utility)
    except KeyError:  # a card of a utility this hall does not serve: its id says which
        utility = result.utility
    return [
        tr("maint.devices.card.atr", atr=result.atr_hex or tr("maint.devices.atr_unknown")),
        tr("maint.devices.card.type", type=tr(_CARD_TYPES.get(result.card_type, "maint.devices.card_type.purchase"))),
        tr("maint.devices.card.utility", utility=utility),
        tr("maint.devices.card.account", account=result.account_masked),
    ]
