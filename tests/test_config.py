"""config.toml: the shipped file, the embedded defaults, and the messages a technician sees."""

from __future__ import annotations

import dataclasses
import datetime
import os
import threading
from pathlib import Path

import pytest

from drivers.device import SettingKind

from contract.account_number import AccountNumberRule
from kiosk.config import ConfigError, ConfigProblem, default_config, load_config, load_config_for_run

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def write_config(tmp_path):
    """Write TOML text to a file and return its path."""

    def write(text: str, name: str = "kiosk.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def problems_of(write_config):
    """Load TOML text that should be rejected; return the error's printed lines."""

    def problems(text: str) -> list[str]:
        path = write_config(text)
        with pytest.raises(ConfigError) as caught:
            load_config(path)
        assert caught.value.path == str(path)
        lines = str(caught.value).splitlines()
        assert len(lines) == len(caught.value.problems)
        assert all(line.startswith(f"{path}: ") for line in lines)
        return [line.removeprefix(f"{path}: ") for line in lines]

    return problems


# --------------------------------------------------------------------------- defaults and the shipped file


def test_no_path_gives_the_embedded_defaults():
    config = load_config(None)

    assert config == default_config()
    assert config.source == "embedded defaults"
    assert config.terminal.id == "KS-0001"
    assert config.service_hours.open == datetime.time(8, 0)
    assert config.service_hours.text() == "08:00–20:00"
    assert config.idle.countdown_s == 20.0
    assert config.backend.embedded
    assert [u.id for u in config.utilities] == ["electricity", "water", "gas"]


def test_shipped_config_toml_equals_the_embedded_defaults():
    shipped = load_config(REPO / "config.toml")

    assert shipped.source == str(REPO / "config.toml")
    assert dataclasses.replace(shipped, source="embedded defaults") == default_config()


def test_empty_file_gives_the_defaults(write_config):
    config = load_config(write_config(""))

    assert dataclasses.replace(config, source="embedded defaults") == default_config()


def test_file_with_some_keys_keeps_defaults_for_the_rest(write_config):
    config = load_config(write_config('[idle]\ncountdown_s = 30\n[backend]\nurl = "https://billing.example:8443"\n'))

    assert config.idle.countdown_s == 30.0
    assert config.idle.prompt_after_s == 60.0
    assert config.backend.url == "https://billing.example:8443"
    assert not config.backend.embedded
    assert config.backend.retries == 2
    assert config.terminal == default_config().terminal


def test_utilities_in_the_file_replace_the_default_list_and_fill_in_from_their_id(write_config):
    config = load_config(write_config('[[utilities]]\nid = "water"\naccount_length = 9\n'))

    assert [u.id for u in config.utilities] == ["water"]
    water = config.utility("water")
    assert (water.name_zh, water.unit, water.account_length, water.check_rule) == ("水费", "m³", 9, "none")
    assert water.rule == AccountNumberRule(length=9, check="none")
    assert water.name("en") == "Water"


def test_asking_for_a_utility_not_configured_names_it(write_config):
    config = load_config(write_config('[[utilities]]\nid = "water"\n'))

    with pytest.raises(KeyError, match=r"'gas' is not configured in .*kiosk\.toml \(configured: water\)"):
        config.utility("gas")


def test_hall_name_follows_the_language():
    config = default_config()

    assert config.hall_name("zh") == "城东供电供水供气营业厅"
    assert config.hall_name("en") == "Chengdong Utility Business Hall"


def test_service_hours_are_open_only_on_listed_days_between_open_and_close(write_config):
    hours = load_config(write_config('[service_hours]\ndays = ["mon"]\n')).service_hours
    monday = datetime.date(2024, 6, 3)

    assert hours.is_open(datetime.datetime.combine(monday, datetime.time(8, 0)))
    assert not hours.is_open(datetime.datetime.combine(monday, datetime.time(20, 0)))
    assert not hours.is_open(datetime.datetime.combine(monday + datetime.timedelta(days=1), datetime.time(12)))


def test_utf8_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes('\ufeff[terminal]\nhall_name_zh = "西城营业厅"\n'.encode())

    assert load_config(path).terminal.hall_name_zh == "西城营业厅"


# --------------------------------------------------------------------------- unknown keys


def test_misspelled_key_suggests_the_right_one_and_names_the_file(write_config):
    path = write_config("[idle]\ncountdwn_s = 20\n")

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert str(caught.value) == f"{path}: idle.countdwn_s: unknown key — did you mean idle.countdown_s?"
    expected = ConfigProblem("idle.countdwn_s", "unknown key — did you mean idle.countdown_s?")
    assert caught.value.problems == (expected,)


def test_misspelled_word_in_a_key_suggests_every_key_with_that_word(problems_of):
    assert problems_of("[backend]\ntimout = 3\n") == [
        "backend.timout: unknown key — did you mean backend.connect_timeout_s or backend.read_timeout_s?"
    ]


def test_unknown_key_with_no_close_match_lists_the_keys_of_its_table(problems_of):
    assert problems_of("[ui]\nbrightness = 80\n") == [
        "ui.brightness: unknown key — the keys of [ui] are fullscreen, hide_cursor"
    ]


def test_key_in_the_wrong_table_says_where_it_belongs(problems_of):
    assert problems_of("[backend]\nfullscreen = false\n") == [
        "backend.fullscreen: unknown key — fullscreen belongs in [ui]; move it there"
    ]


def test_misspelled_section_suggests_the_section(problems_of):
    assert problems_of("[bakend]\nurl = \"embedded\"\n") == ["bakend: unknown key — did you mean backend?"]


def test_misspelled_key_inside_a_utility_is_named_by_its_position(problems_of):
    text = '[[utilities]]\nid = "electricity"\n\n[[utilities]]\nid = "water"\nacount_length = 8\n'

    assert problems_of(text) == [
        "utilities[2].acount_length: unknown key — did you mean utilities[2].account_length?"
    ]


def test_single_bracket_utilities_table_asks_for_double_brackets(problems_of):
    (line,) = problems_of('[utilities]\nid = "water"\n')

    assert line.startswith("utilities: expected [[utilities]] tables, got a single [utilities] table")
    assert "double brackets" in line


# --------------------------------------------------------------------------- types


def test_number_in_quotes_says_to_remove_the_quotes(problems_of):
    assert problems_of('[idle]\ncountdown_s = "20"\n') == [
        'idle.countdown_s: expected a number, got "20" (a string) — write it without quotes: countdown_s = 20'
    ]


def test_boolean_for_a_number_is_a_type_error(problems_of):
    assert problems_of("[idle]\nprompt_after_s = true\n") == [
        "idle.prompt_after_s: expected a number, got true (a boolean) — write a number, e.g. prompt_after_s = 60"
    ]


def test_number_for_a_string_says_to_quote_it(problems_of):
    assert problems_of("[terminal]\nhotline = 95598\n") == [
        'terminal.hotline: expected a string, got 95598 (a number) — put it in quotes: hotline = "95598"'
    ]


def test_unquoted_toml_time_says_to_quote_it(problems_of):
    assert problems_of("[service_hours]\nopen = 07:30:00\n") == [
        'service_hours.open: expected a string, got 07:30:00 (a time) — put it in quotes: open = "07:30"'
    ]


def test_fraction_for_a_whole_number_is_a_type_error(problems_of):
    assert problems_of("[backend]\nretries = 2.5\n") == [
        "backend.retries: expected a whole number, got 2.5 (a number) — write a whole number, e.g. retries = 2"
    ]


def test_integer_is_accepted_where_a_float_is_expected(write_config):
    assert load_config(write_config("[backend]\nconnect_timeout_s = 5\n")).backend.connect_timeout_s == 5.0


def test_quoted_boolean_says_to_remove_the_quotes(problems_of):
    assert problems_of('[ui]\nfullscreen = "false"\n') == [
        'ui.fullscreen: expected true or false, got "false" (a string) — write it without quotes: fullscreen = false'
    ]


def test_string_for_a_list_shows_the_list_to_write(problems_of):
    assert problems_of('[terminal]\nlanguages = "zh, en"\n') == [
        'terminal.languages: expected a list of strings, got "zh, en" (a string) — '
        'write it as a list in brackets: languages = ["zh", "en"]'
    ]


# --------------------------------------------------------------------------- values


def test_number_out_of_range_gives_the_allowed_range_and_unit(problems_of):
    assert problems_of("[idle]\nprompt_after_s = 5\n") == [
        "idle.prompt_after_s: 5 is out of range — allowed 10 to 600 seconds"
    ]


def test_account_length_out_of_range_is_named_by_utility_position(problems_of):
    assert problems_of('[[utilities]]\nid = "gas"\naccount_length = 30\n') == [
        "utilities[1].account_length: 30 is out of range — allowed 4 to 20 digits"
    ]


def test_value_not_among_the_choices_lists_the_choices(problems_of):
    assert problems_of('[terminal]\ndefault_language = "fr"\n') == [
        'terminal.default_language: "fr" is not allowed — choose one of "zh", "en"'
    ]


def test_log_level_not_among_the_choices_lists_the_choices(problems_of):
    assert problems_of('[logging]\nlevel = "info"\n') == [
        'logging.level: "info" is not allowed — choose one of "DEBUG", "INFO", "WARNING", "ERROR"'
    ]


def test_default_language_must_be_one_of_the_languages(problems_of):
    assert problems_of('[terminal]\nlanguages = ["zh"]\ndefault_language = "en"\n') == [
        'terminal.default_language: "en" is not in terminal.languages ["zh"] — '
        'add it to languages or choose one of "zh"'
    ]


def test_day_listed_twice_is_reported(problems_of):
    assert problems_of('[service_hours]\ndays = ["mon", "tue", "mon"]\n') == [
        'service_hours.days: "mon" is listed twice — list each once'
    ]


def test_empty_hall_name_is_reported_with_an_example(problems_of):
    assert problems_of('[terminal]\nhall_name_en = ""\n') == [
        'terminal.hall_name_en: "" is empty — write a value, e.g. hall_name_en = "Chengdong Utility Business Hall"'
    ]


def test_terminal_id_in_lower_case_is_rejected(problems_of):
    (line,) = problems_of('[terminal]\nid = "ks-0001"\n')

    assert line.startswith('terminal.id: "ks-0001" is not a valid terminal id — use 3 to 32 capital letters')


def test_time_not_in_hh_mm_form_is_rejected(problems_of):
    assert problems_of('[service_hours]\nopen = "8am"\n') == [
        'service_hours.open: "8am" is not a time — write it as "HH:MM" on the 24-hour clock, e.g. "08:00" or "20:00"'
    ]


def test_close_before_open_is_reported(problems_of):
    assert problems_of('[service_hours]\nopen = "18:00"\nclose = "09:00"\n') == [
        'service_hours.close: "09:00" is not later than service_hours.open "18:00" — '
        "set close after open; service hours cannot run past midnight"
    ]


def test_duplicate_utility_ids_name_both_positions(problems_of):
    text = '[[utilities]]\nid = "water"\n[[utilities]]\nid = "gas"\n[[utilities]]\nid = "water"\n'

    assert problems_of(text) == [
        'utilities[3].id: "water" is already used by utilities[1] — list each utility once'
    ]


def test_utility_without_an_id_is_reported(problems_of):
    assert problems_of('[[utilities]]\nunit = "kWh"\n') == [
        'utilities[1].id: missing — every [[utilities]] table needs one: id = "electricity", "water" or "gas"'
    ]


def test_unknown_check_rule_lists_the_rules(problems_of):
    assert problems_of('[[utilities]]\nid = "gas"\ncheck_rule = "mod11"\n') == [
        'utilities[1].check_rule: "mod11" is not allowed — choose one of "none", "luhn"'
    ]


@pytest.mark.parametrize("url", ["htp://x", "https://", "billing.example", "http://host:99999"])
def test_malformed_backend_url_is_reported_with_an_example(problems_of, url):
    assert problems_of(f'[backend]\nurl = "{url}"\n') == [
        f'backend.url: "{url}" is not "embedded" or an http(s) URL — e.g. "https://billing.example:8443"'
    ]


def test_https_with_a_missing_ca_file_is_reported(problems_of, tmp_path):
    missing = tmp_path / "ca.pem"

    assert problems_of(f'[backend]\nurl = "https://billing.example"\nca_file = "{missing}"\n') == [
        f'backend.ca_file: "{missing}" does not exist — backend.url is https, so give the PEM file '
        'of the CA that signed the backend\'s certificate, or "" to use the system CA store'
    ]


def test_https_with_an_existing_ca_file_loads(write_config, tmp_path):
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text("-----BEGIN CERTIFICATE-----\n")

    config = load_config(write_config(f'[backend]\nurl = "https://billing.example"\nca_file = "{ca_file}"\n'))

    assert config.backend.ca_file == str(ca_file)


@pytest.mark.parametrize("port, kind, target", [
    ("emulator", SettingKind.EMULATOR, ""),
    ("/dev/ttyUSB0", SettingKind.SERIAL, "/dev/ttyUSB0"),
    ("tcp://192.168.1.50:4001", SettingKind.SERIAL, "socket://192.168.1.50:4001"),  # pyserial's name for it
    ("tcp://acceptor.local:9100", SettingKind.SERIAL, "socket://acceptor.local:9100"),
    ("rfc2217://192.168.1.50:4001", SettingKind.SERIAL, "rfc2217://192.168.1.50:4001"),
    ("socket://10.0.0.5:7000", SettingKind.SERIAL, "socket://10.0.0.5:7000"),
    ("loop://", None, None),
])
def test_acceptor_ports_in_the_allowed_forms_load_parsed(write_config, problems_of, port, kind, target):
    text = f'[devices]\nacceptor = "{port}"\n'
    if kind is None:  # a pyserial URL handler with nothing after it is no port
        assert problems_of(text)[0].startswith(f'devices.acceptor: "{port}" is not a port the kiosk can open')
        return
    setting = load_config(write_config(text)).devices.acceptor
    assert (setting.text, setting.kind, setting.target) == (port, kind, target)


@pytest.mark.parametrize("port, kind, where", [
    ("tcp://printer.local", SettingKind.TCP, ("printer.local", 9100)),  # the raw-printing port when left out
    ("tcp://10.0.0.20:9101", SettingKind.TCP, ("10.0.0.20", 9101)),
    ("/dev/ttyS1?baudrate=115200", SettingKind.SERIAL, "/dev/ttyS1"),
    ("rfc2217://10.0.0.20:4001", SettingKind.SERIAL, "rfc2217://10.0.0.20:4001"),
    ("/dev/usb/lp0", SettingKind.DEVICE_FILE, "/dev/usb/lp0"),
])
def test_printer_settings_load_parsed(write_config, port, kind, where):
    setting = load_config(write_config(f'[devices]\nprinter = "{port}"\n')).devices.printer
    assert setting.kind is kind
    assert ((setting.host, setting.port) if kind is SettingKind.TCP else setting.target) == where


@pytest.mark.parametrize("port", ["COM3", "ttyUSB0", "/dev/", "tcp://:4001"])
def test_an_acceptor_port_in_another_form_is_reported(problems_of, port):
    (line,) = problems_of(f'[devices]\nacceptor = "{port}"\n')
    assert line.startswith(f'devices.acceptor: "{port}"')
    assert "tcp://192.168.1.50:4001" in line  # says how to write one that works


@pytest.mark.parametrize("port, words", [
    ("tcp://host:0", "the port is missing or not a number from 1 to 65535"),
    ("COM3", "is not understood as a printer"),
    ("/dev/ttyS0?speed=9600", "unknown serial option 'speed'"),
])
def test_a_printer_setting_in_another_form_is_reported(problems_of, port, words):
    (line,) = problems_of(f'[devices]\nprinter = "{port}"\n')
    assert line.startswith(f'devices.printer: "{port}"') and words in line


def test_card_reader_accepts_pcsc_with_a_reader_name(write_config):
    config = load_config(write_config('[devices]\ncard_reader = "pcsc:ACS ACR39U 00 00"\n'))

    assert (config.devices.card_reader.kind, config.devices.card_reader.target) == (SettingKind.PCSC,
                                                                                 "ACS ACR39U 00 00")


def test_card_reader_in_another_form_is_reported(problems_of):
    (line,) = problems_of('[devices]\ncard_reader = "usb"\n')

    assert line.startswith('devices.card_reader: "usb" is not a card reader setting — use "emulator", "none"')


def test_a_device_the_terminal_does_not_have_is_set_to_none(write_config):
    config = load_config(write_config('[devices]\nacceptor = "none"\nprinter = "none"\ncard_reader = "none"\n'))

    devices = (config.devices.acceptor, config.devices.printer, config.devices.card_reader)
    assert [setting.fitted for setting in devices] == [False] * 3


def test_a_scanner_is_emulated_by_default_and_none_means_not_fitted(write_config):
    assert default_config().devices.scanner.emulated
    assert not load_config(write_config('[devices]\nscanner = "none"\n')).devices.scanner.fitted


def test_a_scanner_port_takes_the_scanners_own_options(write_config):
    text = '[devices]\nscanner = "/dev/ttyACM0?baudrate=115200&mode=trigger&trigger=gm65"\n'
    setting = load_config(write_config(text)).devices.scanner
    assert setting.target == "/dev/ttyACM0"
    assert (setting.scanner.baudrate, setting.scanner.mode.value) == (115200, "trigger")


def test_a_wrong_scanner_option_is_reported_by_key_and_option(problems_of):
    (line,) = problems_of('[devices]\nscanner = "/dev/ttyACM0?terminator=tab"\n')
    assert line.startswith('devices.scanner: "/dev/ttyACM0?terminator=tab": terminator=\'tab\': use one of cr, lf')


def test_a_misspelled_scanner_key_is_refused_with_the_right_one(problems_of):
    (line,) = problems_of('[devices]\nscaner = "none"\n')
    assert line.startswith("devices.scaner: unknown key — did you mean devices.scanner")


# --------------------------------------------------------------------------- all at once, and the file itself


def test_every_problem_in_the_file_is_reported_at_once(problems_of):
    text = """
[terminal]
default_language = "fr"

[idle]
countdown_s = "20"
prompt_after_s = 1000

[backend]
timout = 5

[[utilities]]
id = "water"
[[utilities]]
id = "water"
"""
    assert problems_of(text) == [
        'terminal.default_language: "fr" is not allowed — choose one of "zh", "en"',
        "idle.prompt_after_s: 1000 is out of range — allowed 10 to 600 seconds",
        'idle.countdown_s: expected a number, got "20" (a string) — write it without quotes: countdown_s = 20',
        "backend.timout: unknown key — did you mean backend.connect_timeout_s or backend.read_timeout_s?",
        'utilities[2].id: "water" is already used by utilities[1] — list each utility once',
    ]


def test_toml_syntax_error_gives_line_and_column(problems_of):
    assert problems_of('[logging]\nlevel = INFO\n') == [
        "line 2, column 9: not valid TOML (Invalid value) — fix the TOML there: "
        'text needs double quotes (level = "INFO", open = "08:00"), one key = value per line'
    ]


def test_chinese_quotes_are_pointed_out(problems_of):
    (line,) = problems_of("[terminal]\nhall_name_zh = “西城营业厅”\n")

    assert line.startswith("line 2, column 16: not valid TOML (Invalid value) — that line has Chinese punctuation")


def test_key_written_twice_says_to_keep_one(problems_of):
    assert problems_of('[terminal]\nid = "KS-0001"\nid = "KS-0002"\n') == [
        "line 3, column 15: not valid TOML (Cannot overwrite a value) — "
        "that key or [section] is already written above; keep only one of them"
    ]


def test_file_not_in_utf8_says_to_save_it_as_utf8(tmp_path):
    path = tmp_path / "gbk.toml"
    path.write_bytes('[terminal]\nhall_name_zh = "西城营业厅"\n'.encode("gbk"))

    with pytest.raises(ConfigError, match="line 2: not UTF-8 text — save the file as UTF-8"):
        load_config(path)


def test_missing_file_says_how_to_use_the_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # so the message shows the path exactly as given

    with pytest.raises(ConfigError) as caught:
        load_config("config.toml")

    assert str(caught.value) == (
        "config.toml: cannot read: No such file or directory — "
        "pass an existing file or omit --config to use the embedded defaults"
    )


# --------------------------------------------------------------------------- [payment]


def test_accepted_notes_are_yuan_notes_the_acceptor_knows(problems_of):
    assert problems_of('[payment]\naccepted_notes = [10, 20, 30]\n') == [
        "payment.accepted_notes: 30 is not allowed — choose from 1, 5, 10, 20, 50, 100"
    ]


def test_accepted_notes_written_in_quotes_are_explained(problems_of):
    (line,) = problems_of('[payment]\naccepted_notes = ["50", "100"]\n')

    assert line.endswith("write the numbers without quotes: accepted_notes = [50, 100]")


def test_the_cap_is_the_bill_plus_the_prepay_allowance_within_the_maximum(write_config):
    payment = load_config(write_config('[payment]\nmax_payment_yuan = 1000\nmax_prepay_yuan = 200\n')).payment

    assert payment.cap_fen(12_850) == 32_850  # owes ¥128.50: up to ¥328.50
    assert payment.cap_fen(0) == 20_000  # nothing owed: prepay only
    assert payment.cap_fen(95_000) == 100_000  # never past the maximum
    assert payment.accepted_fen == frozenset({100, 500, 1000, 2000, 5000, 10000})


# --------------------------------------------------------------------------- backend call limits, disk reserve


def test_call_deadline_reply_size_and_disk_reserve_have_their_defaults():
    config = default_config()

    assert config.backend.call_deadline_s == 15.0 and isinstance(config.backend.call_deadline_s, float)
    assert config.backend.max_reply_kib == 1024
    assert (config.storage.min_free_mib, config.storage.reserve_mib) == (64, 8)


def test_call_limits_and_disk_reserve_are_read_from_the_file(write_config):
    config = load_config(write_config(
        "[backend]\ncall_deadline_s = 40\nmax_reply_kib = 256\n[storage]\nmin_free_mib = 500\nreserve_mib = 1\n"
    ))

    assert (config.backend.call_deadline_s, config.backend.max_reply_kib) == (40.0, 256)
    assert (config.storage.min_free_mib, config.storage.reserve_mib) == (500, 1)


@pytest.mark.parametrize(("line", "message"), [
    ("[backend]\ncall_deadline_s = 0.5", "backend.call_deadline_s: 0.5 is out of range — allowed 1 to 300 seconds"),
    ("[backend]\ncall_deadline_s = 301", "backend.call_deadline_s: 301 is out of range — allowed 1 to 300 seconds"),
    ("[backend]\nmax_reply_kib = 8", "backend.max_reply_kib: 8 is out of range — allowed 16 to 65536 KiB"),
    ("[backend]\nmax_reply_kib = 65537", "backend.max_reply_kib: 65537 is out of range — allowed 16 to 65536 KiB"),
    ("[storage]\nmin_free_mib = 0", "storage.min_free_mib: 0 is out of range — allowed 1 to 100000 MiB"),
    ("[storage]\nmin_free_mib = 100001", "storage.min_free_mib: 100001 is out of range — allowed 1 to 100000 MiB"),
    ("[storage]\nreserve_mib = 0", "storage.reserve_mib: 0 is out of range — allowed 1 to 1024 MiB"),
    ("[storage]\nreserve_mib = 1025", "storage.reserve_mib: 1025 is out of range — allowed 1 to 1024 MiB"),
])
def test_call_limits_and_disk_reserve_out_of_range_give_the_allowed_range(problems_of, line, message):
    assert problems_of(line + "\n") == [message]


def test_reply_size_with_a_fraction_asks_for_a_whole_number(problems_of):
    assert problems_of("[backend]\nmax_reply_kib = 512.0\n") == [
        "backend.max_reply_kib: expected a whole number, got 512.0 (a number) — "
        "write it without the decimal point: max_reply_kib = 512"
    ]


def test_call_deadline_shorter_than_the_connect_timeout_is_reported(problems_of):
    assert problems_of("[backend]\nconnect_timeout_s = 5\ncall_deadline_s = 2\n") == [
        "backend.call_deadline_s: 2 is shorter than backend.connect_timeout_s 5 — a call could never even "
        "connect; set call_deadline_s to at least connect_timeout_s"
    ]


def test_call_deadline_equal_to_the_connect_timeout_loads(write_config):
    config = load_config(write_config("[backend]\nconnect_timeout_s = 3\ncall_deadline_s = 3\n"))

    assert config.backend.call_deadline_s == 3


# --------------------------------------------------------------------------- malformed values: a message, no traceback


@pytest.mark.parametrize("url", ["http://[::1", "http://[billing]", "https://[::1]x:80", "http://[zz]:8443"])
def test_url_with_unbalanced_or_bad_brackets_is_reported_not_raised(problems_of, url):
    assert problems_of(f'[backend]\nurl = "{url}"\n') == [
        f'backend.url: "{url}" is not "embedded" or an http(s) URL — e.g. "https://billing.example:8443"'
    ]


def test_url_with_a_nul_byte_is_reported_with_the_byte_escaped(problems_of):
    assert problems_of('[backend]\nurl = "http://billing\\u0000.example"\n') == [
        'backend.url: "http://billing\\u0000.example" is not "embedded" or an http(s) URL — '
        'e.g. "https://billing.example:8443"'
    ]


def test_array_nested_hundreds_deep_is_a_syntax_problem(problems_of):
    depth = 2000
    (line,) = problems_of("[terminal]\nid = \"KS-1\"\nlanguages = " + "[" * depth + "]" * depth + "\n")

    assert line.startswith("line 3: not valid TOML (brackets nested hundreds deep) — ")


def test_tables_nested_hundreds_deep_are_a_syntax_problem(problems_of):
    depth = 2000
    (line,) = problems_of("[ui]\nfullscreen = " + "{a = " * depth + "1" + "}" * depth + "\n")

    assert line.startswith("line 2: not valid TOML (brackets nested hundreds deep)")


def test_a_list_nested_a_little_deep_is_quoted_shortened(problems_of):
    (line,) = problems_of("[terminal]\nlanguages = " + "[" * 100 + "]" * 100 + "\n")

    assert line.startswith("terminal.languages: expected a list of strings, got [[[[…]]]] (a list)")


def test_number_with_thousands_of_digits_names_its_line(problems_of):
    (line,) = problems_of("[idle]\n\ncountdown_s = 1" + "0" * 5000 + "\n")

    assert line.startswith("line 3: not valid TOML (a number too long to read: exceeds the limit (4300 digits)")


def test_huge_number_in_range_message_is_short(problems_of):
    (line,) = problems_of("[backend]\nretries = 1" + "0" * 100 + "\n")

    assert line == "backend.retries: a number of 101 digits is out of range — allowed 0 to 5 retries"


def test_very_long_text_is_quoted_shortened_with_its_length(problems_of):
    (line,) = problems_of(f'[terminal]\nid = "{"K" * 100_000}"\n')

    assert line.startswith(f'terminal.id: "{"K" * 100}…" (100000 characters) is not a valid terminal id')
    assert len(line) < 500


def test_very_long_unknown_key_is_quoted_shortened(problems_of):
    (line,) = problems_of(f"[idle]\n{'k' * 50_000} = 1\n")

    assert line.startswith(f'idle."{"k" * 100}…" (50000 characters): unknown key — the keys of [idle] are')


def test_control_characters_in_a_value_are_escaped_in_the_message(problems_of):
    (line,) = problems_of('[terminal]\nid = "KS\\u0007\\t1"\n')

    assert line.startswith('terminal.id: "KS\\u0007\\t1" is not a valid terminal id')
    assert "\x07" not in line and "\t" not in line


def test_list_of_many_items_is_quoted_shortened(problems_of):
    (line,) = problems_of("[payment]\naccepted_notes = [" + ", ".join(["\"5\""] * 500) + "]\n")

    assert '["5", "5", "5", "5", "5", "5", "5", "5", … 500 items in all]' in line


def test_superscript_digit_in_quotes_is_explained_not_raised(problems_of):
    (line,) = problems_of('[payment]\naccepted_notes = ["²", "10"]\n')

    assert line.endswith('write the numbers without quotes: accepted_notes = ["²", 10]')


@pytest.mark.parametrize("key", ["storage.data_dir", "storage.key_file", "storage.backup_dir", "logging.dir"])
def test_path_with_a_nul_byte_is_reported(problems_of, key):
    section, name = key.split(".")

    assert problems_of(f'[{section}]\n{name} = "var/da\\u0000ta"\n') == [
        f'{key}: "var/da\\u0000ta" contains a NUL byte at character 7 — a path cannot hold one; '
        "retype the path with printable characters only"
    ]


def test_ca_file_with_a_nul_byte_is_reported_even_for_plain_http(problems_of):
    (line,) = problems_of('[backend]\nurl = "http://billing.example"\nca_file = "ca\\u0000.pem"\n')

    assert line.startswith('backend.ca_file: "ca\\u0000.pem" contains a NUL byte at character 3')


def test_path_longer_than_linux_allows_is_reported(problems_of):
    (line,) = problems_of(f'[logging]\ndir = "/var/{"d" * 300}"\n')

    assert line.endswith("has a name of 300 bytes between two slashes — each part of a path may be at most 255 bytes")


def test_https_with_a_ca_file_path_too_long_to_look_up_is_reported(problems_of):
    (line,) = problems_of(f'[backend]\nurl = "https://billing.example"\nca_file = "{"c" * 5000}"\n')

    assert line.endswith("is 5000 bytes long — a path may be at most 4095 bytes")


def test_https_with_a_ca_file_under_a_regular_file_is_reported(problems_of, tmp_path):
    (tmp_path / "certs").write_text("not a directory")
    ca_file = tmp_path / "certs" / "ca.pem"

    (line,) = problems_of(f'[backend]\nurl = "https://billing.example"\nca_file = "{ca_file}"\n')

    assert line.startswith(f'backend.ca_file: "{ca_file}" cannot be looked at: Not a directory — ')


def test_config_path_that_is_not_a_regular_file_is_reported_without_reading_it(tmp_path):
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)  # opened for reading, it waits for a writer
    # The deadline: a reader stuck in open() gets an empty file after 3 s (and the test fails).
    releaser = threading.Timer(3.0, _open_and_close_for_writing, args=(fifo,))
    releaser.start()
    try:
        with pytest.raises(ConfigError, match="cannot read: not a regular file — pass the configuration file itself"):
            load_config(fifo)
    finally:
        releaser.cancel()


def _open_and_close_for_writing(fifo: Path) -> None:
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:  # no reader waiting: nobody to release
        pass


def test_config_file_of_megabytes_is_refused(tmp_path):
    huge = tmp_path / "config.toml"
    huge.write_bytes(b"# " + b"x" * (2 << 20) + b"\n")

    with pytest.raises(ConfigError, match="larger than 1 MiB — a configuration is a few kilobytes"):
        load_config(huge)


# --------------------------------------------------------------------------- what `kiosk run` needs on disk


def run_problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config_for_run(path)
    return [line.removeprefix(f"{path}: ") for line in str(caught.value).splitlines()]


@pytest.mark.parametrize("key", ["storage.data_dir", "storage.backup_dir", "logging.dir"])
def test_directory_under_a_regular_file_is_reported_naming_the_file(write_config, tmp_path, key):
    blocker = tmp_path / "afile"
    blocker.write_text("")
    section, name = key.split(".")
    path = write_config(f'[{section}]\n{name} = "{blocker}/sub/dir"\n')

    assert run_problems_of(path) == [
        f'{key}: "{blocker}/sub/dir" cannot be created: {blocker} is a file, not a directory — '
        f"move that file away, or set {key} to another directory"
    ]
    assert load_config(path)  # the file itself is fine: only what run needs is not


def test_relative_directory_says_where_it_looked(write_config, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "var").write_text("")

    (line,) = run_problems_of(write_config('[logging]\ndir = "var/log"\n[storage]\ndata_dir = "data"\n'
                                           'key_file = "data/journal.key"\nbackup_dir = "backup"\n'))

    assert line == (f'logging.dir: "var/log" cannot be created (looked for {tmp_path}/var/log): '
                    f"{tmp_path}/var is a file, not a directory — move that file away, or set logging.dir "
                    "to another directory")


def test_data_directory_that_is_a_file_is_reported(write_config, tmp_path):
    data = tmp_path / "data"
    data.write_text("")

    problems = run_problems_of(write_config(f'[storage]\ndata_dir = "{data}"\nkey_file = "{tmp_path}/k"\n'))

    assert problems == [f'storage.data_dir: "{data}" is a file, not a directory — move that file away, '
                        "or set storage.data_dir to another directory"]


def test_directory_through_a_broken_symbolic_link_is_reported(write_config, tmp_path):
    (tmp_path / "backups").symlink_to(tmp_path / "gone")

    (line,) = run_problems_of(write_config(f'[storage]\nbackup_dir = "{tmp_path}/backups/journal"\n'))

    assert line == (f'storage.backup_dir: "{tmp_path}/backups/journal" cannot be created: {tmp_path}/backups '
                    "is a symbolic link to a path that does not exist — remove the link or create what it "
                    "points to, or set storage.backup_dir to another directory")


def test_key_file_whose_directory_cannot_be_created_is_reported(write_config, tmp_path):
    (tmp_path / "keys").write_text("")
    data = tmp_path / "data"
    key = tmp_path / "keys" / "journal.key"

    assert run_problems_of(write_config(f'[storage]\ndata_dir = "{data}"\nkey_file = "{key}"\n')) == [
        f'storage.key_file: "{key}" cannot be created: its directory "{tmp_path}/keys" is a file, not a '
        "directory — move that file away, or set storage.key_file to a path in another directory"
    ]


def test_key_file_that_is_a_directory_is_reported(write_config, tmp_path):
    key = tmp_path / "journal.key"
    key.mkdir()

    (line,) = run_problems_of(write_config(f'[storage]\ndata_dir = "{tmp_path}"\nkey_file = "{key}"\n'))

    assert line == (f'storage.key_file: "{key}" is not a file — the journal\'s key must be a file the '
                    "kiosk's user can read")


def test_every_directory_problem_is_reported_at_once_with_the_files_own(write_config, tmp_path):
    (tmp_path / "afile").write_text("")
    text = (f'[idle]\ncountdown_s = 1\n[storage]\ndata_dir = "{tmp_path}/afile/d"\n'
            f'key_file = "{tmp_path}/journal.key"\n'
            f'backup_dir = "{tmp_path}/afile/b"\n[logging]\ndir = "{tmp_path}/afile/l"\n')

    keys = [line.split(":")[0] for line in run_problems_of(write_config(text))]

    assert keys == ["idle.countdown_s", "storage.data_dir", "storage.backup_dir", "logging.dir"]


def test_checking_what_run_needs_creates_nothing(write_config, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write_config('[backend]\nurl = "embedded"\n')

    config = load_config_for_run(path)

    assert config.storage.data_dir == "var/data"
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_embedded_defaults_are_checked_for_what_run_needs_too(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "var").write_text("")

    with pytest.raises(ConfigError) as caught:
        load_config_for_run(None)

    assert caught.value.path == "embedded defaults"
    assert [p.key for p in caught.value.problems] == [
        "storage.data_dir", "storage.backup_dir", "logging.dir", "storage.key_file"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file whatever its mode")
def test_https_with_a_ca_file_the_kiosk_cannot_read_is_reported(problems_of, tmp_path):
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text("-----BEGIN CERTIFICATE-----\n")
    ca_file.chmod(0)

    (line,) = problems_of(f'[backend]\nurl = "https://billing.example"\nca_file = "{ca_file}"\n')

    assert line.startswith(f'backend.ca_file: "{ca_file}" is not readable by the kiosk\'s user (owner ')
