"""config.toml: the shipped file, the embedded defaults, and the messages a technician sees."""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

import pytest

from kiosk.account_number import AccountNumberRule
from kiosk.config import ConfigError, ConfigProblem, default_config, load_config

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


@pytest.mark.parametrize("port", ["emulator", "/dev/ttyUSB0", "tcp://192.168.1.50:4001", "tcp://acceptor.local:9100"])
def test_device_ports_in_the_allowed_forms_load(write_config, port):
    assert load_config(write_config(f'[devices]\nacceptor = "{port}"\n')).devices.acceptor == port


@pytest.mark.parametrize("port", ["COM3", "ttyUSB0", "tcp://host", "tcp://host:0", "/dev/"])
def test_device_port_in_another_form_is_reported(problems_of, port):
    assert problems_of(f'[devices]\nprinter = "{port}"\n') == [
        f'devices.printer: "{port}" is not a port the kiosk can open — use "emulator", "none" (not fitted), a '
        'serial device such as "/dev/ttyUSB0", or "tcp://host:port" such as "tcp://192.168.1.50:4001"'
    ]


def test_card_reader_accepts_pcsc_with_a_reader_name(write_config):
    config = load_config(write_config('[devices]\ncard_reader = "pcsc:ACS ACR39U 00 00"\n'))

    assert config.devices.card_reader == "pcsc:ACS ACR39U 00 00"


def test_card_reader_in_another_form_is_reported(problems_of):
    (line,) = problems_of('[devices]\ncard_reader = "usb"\n')

    assert line.startswith('devices.card_reader: "usb" is not a card reader setting — use "emulator", "none"')


def test_a_device_the_terminal_does_not_have_is_set_to_none(write_config):
    config = load_config(write_config('[devices]\nacceptor = "none"\nprinter = "none"\ncard_reader = "none"\n'))

    assert (config.devices.acceptor, config.devices.printer, config.devices.card_reader) == ("none",) * 3


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
