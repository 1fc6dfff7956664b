"""The slip a technician prints from the maintenance screen to test the printer.

It proves what a customer's slip needs, on this printer, with its paper:
Chinese in GB18030 and English on one slip, a field whose value ends at the
right edge, a QR code the printer draws itself, and the cut.  It says which
terminal printed it and when, and what the driver knows of the printer (its
link, whether it answers status requests, the paper sensor, the width), so a
slip pinned to the repair record shows the printer as it was.

Words from ``assets/i18n/maintenance_devices.toml`` (``maint.devices.slip.*``),
both languages on every line.  The QR payload is ``KIOSK-TEST|terminal|time``:
no customer data is on this slip at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from drivers.escpos.slip import PAPER_58MM, PAPER_80MM, Element, Field, QrCode, Separator, Slip, Text, Title
from drivers.status import Paper, PrinterDetail
from kiosk.i18n import Translator

_ZH, _EN = Translator("zh"), Translator("en")

_LINKS = {"tcp": "maint.devices.slip.link_tcp", "serial": "maint.devices.slip.link_serial",
          "file": "maint.devices.slip.link_file"}
_PAPER = {Paper.OK: "maint.devices.paper_ok", Paper.NEAR_END: "maint.devices.paper_near_end",
          Paper.OUT: "maint.devices.paper_out", Paper.UNKNOWN: "maint.devices.paper_unknown"}


@dataclass(frozen=True)
class PrinterFacts:
    """What the driver knows of the printer, for the slip and the page."""

    link_kind: str  # "tcp", "serial" or "file" (drivers/device.py's SettingKind values)
    answers_status: bool  # False: a device file, written only
    paper: Paper
    columns: int

    @classmethod
    def of(cls, driver, columns: int = PAPER_80MM) -> "PrinterFacts":
        detail = driver.status.device_detail
        paper = detail.paper if isinstance(detail, PrinterDetail) else Paper.UNKNOWN
        return cls(str(driver.endpoint.kind), bool(driver.endpoint.can_read), paper, columns)


@dataclass(frozen=True)
class TestSlipData:
    terminal_id: str
    hall_zh: str
    hall_en: str
    printed_at: datetime
    facts: PrinterFacts

    @property
    def qr_payload(self) -> str:
        return f"KIOSK-TEST|{self.terminal_id}|{self.printed_at.strftime('%Y%m%d%H%M%S')}"


TestSlipData.__test__ = False  # a data class, not a pytest test


def _both(key: str, **values: object) -> str:
    return f"{_ZH(key, **values)} {_EN(key, **values)}"


def capability_fields(facts: PrinterFacts) -> list[tuple[str, str]]:
    """(label, value) in both languages: the printer as the driver knows it."""
    width = "80 mm" if facts.columns == PAPER_80MM else "58 mm" if facts.columns == PAPER_58MM else "?"
    answers = "maint.devices.yes" if facts.answers_status else "maint.devices.no"
    return [
        (_both("maint.devices.slip.link"), _both(_LINKS[facts.link_kind])),
        (_both("maint.devices.slip.status_read"), _both(answers)),
        (_both("maint.devices.slip.paper"), _both(_PAPER[facts.paper])),
        (_both("maint.devices.slip.width"), f"{width}, {facts.columns} cols"),
    ]


def printer_test_slip(data: TestSlipData) -> Slip:
    """The test slip: heading, where and when, what the printer is, both languages, a QR code, a cut."""
    columns = data.facts.columns
    elements: list[Element] = [
        Title(_ZH("maint.devices.slip.title")),
        Text(_EN("maint.devices.slip.title"), "center", bold=True),
        Text(data.hall_zh, "center"),
        Text(data.hall_en, "center"),
        Separator("="),
        Field(_both("maint.devices.slip.terminal"), data.terminal_id),
        Field(_both("maint.devices.slip.time"), data.printed_at.strftime("%Y-%m-%d %H:%M:%S")),
        Separator(),
        *(Field(label, value) for label, value in capability_fields(data.facts)),
        Separator(),
        Text(_ZH("maint.devices.slip.sample")),
        Text(_EN("maint.devices.slip.sample")),
        Field(_both("maint.devices.slip.sample_amount"), "¥128.50", bold=True),
        Separator(),
        QrCode(data.qr_payload, caption=_both("maint.devices.slip.qr_caption")),
        Text(_ZH("maint.devices.slip.not_a_receipt"), "center"),
        Text(_EN("maint.devices.slip.not_a_receipt"), "center"),
    ]
    return Slip(tuple(elements), columns=columns, cut=True)
