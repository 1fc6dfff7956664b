"""The operations page's model on real parts: every action does its work, says how it went, and is audited."""

from __future__ import annotations

from pathlib import Path

import pytest

import operations_world as world
from kiosk.maintenance_audit import Audit
from kiosk.operations_model import REASON_PRESETS, OperationsModel, compose_reason, split_reason
from kiosk.service_switch import ServiceSwitch
from offline_store.maintenance_store import MaintenanceStore
from operations_world import PAYMENTS_PATH, wait_for

clock, journal, pay, sim, worker = world.clock, world.journal, world.pay, world.sim, world.worker  # fixtures
USER = "wang.tech"


@pytest.fixture
def store(tmp_path: Path):
    made = MaintenanceStore(tmp_path / "data" / "maintenance.sqlite")
    yield made
    made.close()


@pytest.fixture
def media(tmp_path: Path) -> Path:
    (tmp_path / "media" / "STICK").mkdir(parents=True)
    return tmp_path / "media"


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "log"
    folder.mkdir()
    (folder / "kiosk.log").write_text('{"msg": "payment posted"}\n')
    return folder


@pytest.fixture
def model(store, journal, worker, clock, media, log_dir) -> OperationsModel:
    audit = Audit(store, keep_days=365, clock=clock)
    return OperationsModel(journal=journal, sync=worker, switch=ServiceSwitch(store, audit, clock), audit=audit,
                           log_dir=str(log_dir), export_dir=str(media), terminal_id="T0001", clock=clock,
                           sync_wait_s=10)


def audit_rows(store: MaintenanceStore) -> list[tuple[str, str, str]]:
    return [(e.user, e.action, e.result) for e in store.audit_since(0)]


def test_putting_out_without_a_reason_says_a_reason_is_needed_and_changes_nothing(model, store):
    view = model.put_out(USER, "", "   ")
    assert view.notice.key == "maint.ops.switch.reason_required" and view.notice.tone == "error"
    assert not view.switch.out
    assert audit_rows(store) == [(USER, "out_of_service", "refused")]


def test_putting_out_with_a_phrase_and_words_keeps_both_and_shows_them_apart(model, store):
    view = model.put_out(USER, "device_repair", "acceptor  belt")
    assert view.switch.out and view.switch.reason == "device_repair: Device repair - acceptor belt"
    assert view.reason_preset.code == "device_repair" and view.reason_words == "acceptor belt"
    assert view.notice.key == "maint.ops.switch.done_out"
    back = model.put_back(USER)
    assert not back.switch.out and back.notice.key == "maint.ops.switch.done_back"
    assert [row[1] for row in audit_rows(store)] == ["out_of_service", "back_in_service"]


def test_sync_now_posts_what_waits_and_the_audit_says_what_it_did(model, store, pay, sim, worker, journal):
    sim.inject("drop", path_prefix=PAYMENTS_PATH)
    pay(10000)
    worker.start()
    wait_for(lambda: worker.stats.failures == 1)
    sim.clear_faults()
    assert len(model.view().outbox.waiting) == 1

    view = model.sync_now(USER)

    assert view.outbox.waiting == ()
    assert view.notice.key == "maint.ops.sync.done" and dict(view.notice.values)["posted"] == 1
    entry = store.audit_since(0)[-1]
    assert (entry.user, entry.action, entry.what) == (USER, "sync", "1 waiting")
    assert entry.result.startswith("posted 1, referred 0, failed 0, still waiting 0")


def test_without_a_journal_there_is_no_outbox_and_sync_is_refused_with_why(store, clock, media, log_dir):
    audit = Audit(store, keep_days=365, clock=clock)
    model = OperationsModel(journal=None, sync=None, switch=ServiceSwitch(store, audit, clock), audit=audit,
                            log_dir=str(log_dir), export_dir=str(media), terminal_id="T0001", clock=clock)
    assert model.view().outbox is None
    view = model.sync_now(USER)
    assert view.notice.key == "maint.ops.outbox.journal_off" and view.notice.tone == "error"
    assert audit_rows(store) == [(USER, "sync", "refused: the money journal is not open")]


def test_export_to_an_offered_stick_writes_the_logs_and_is_audited(model, store, media):
    view = model.export(USER, str(media / "STICK"))
    assert view.notice.key == "maint.ops.export.done"
    folder = Path(view.last_export.folder)
    assert folder.parent == media / "STICK" and (folder / "kiosk.log").exists()
    entry = store.audit_since(0)[-1]
    assert (entry.action, entry.what) == ("export", str(media / "STICK")) and entry.result.startswith("ok: 1 files")


def test_export_to_a_path_that_is_not_offered_is_refused_and_nothing_is_written(model, store, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    view = model.export(USER, str(elsewhere))
    assert view.notice.key == "maint.ops.export.target_gone" and view.notice.tone == "error"
    assert list(elsewhere.iterdir()) == []
    assert audit_rows(store)[-1] == (USER, "export", f"failed: {elsewhere} is not offered (now)")


def test_restart_is_audited_and_wipe_forgets_the_last_message(model, store):
    assert model.restart(USER).notice.key == "maint.ops.restart.requested"
    assert audit_rows(store) == [(USER, "restart", "requested")]
    model.wipe()
    assert model.view().notice is None


@pytest.mark.parametrize("preset", [p.code for p in REASON_PRESETS])
def test_a_stored_reason_reads_back_as_its_phrase_and_words(preset):
    assert split_reason(compose_reason(preset, "belt 2")) == (next(p for p in REASON_PRESETS if p.code == preset),
                                                              "belt 2")
    assert split_reason(compose_reason(preset, ""))[1] == ""
    assert split_reason(compose_reason("", "only words")) == (None, "only words")
