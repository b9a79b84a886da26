"""The `virtdancer` command."""

import io
import logging
import stat
import sys
from pathlib import Path

import pytest
import yaml

from virtdancer import cli
from virtdancer.security.import_users import UsersImportError, users_file_from_config
from virtdancer.security.passwords import check_password, hash_password
from virtdancer.security.sha512_crypt import sha512_crypt
from virtdancer.security.users import User, parse_users

from .test_errors import UNREACHABLE_URI

REPO = Path(__file__).resolve().parents[1]

INI = """\
[app:main]
use = egg:virtdancer
virtdancer.libvirt_uri = {uri}
"""


@pytest.fixture(autouse=True)
def logging_as_it_was():
    """Put every logger back as it was before the command set up logging from its INI file.

    `check` and `console-proxy` configure logging (pyramid.paster.setup_logging) with a handler
    on sys.stderr, which is this test's captured stream: left in place, every later test's log
    record would go to that closed stream ("--- Logging error --- ValueError").
    """
    def loggers():
        return [logging.root] + [logger for logger in logging.root.manager.loggerDict.values()
                                 if isinstance(logger, logging.Logger)]

    saved = {logger: (logger.level, list(logger.handlers), logger.propagate, logger.disabled)
             for logger in loggers()}
    yield
    for logger in loggers():
        level, handlers, propagate, disabled = saved.get(logger, (logging.NOTSET, [], True,
                                                                  False))
        for handler in logger.handlers:
            if handler not in handlers:
                handler.close()
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate
        logger.disabled = disabled


@pytest.fixture
def ini_file(tmp_path):
    def write(uri):
        path = tmp_path / "virtdancer.ini"
        path.write_text(INI.format(uri=uri))
        return str(path)
    return write


def test_check_reports_the_fleet(ini_file, capsys):
    assert cli.main(["check", ini_file("test:///virtdancer:demo/fleet.xml")]) == 0
    assert capsys.readouterr().out.strip().endswith("fleet.xml: 4 VMs, 3 running")


def test_check_says_why_it_cannot_connect(ini_file, capsys):
    assert cli.main(["check", ini_file(UNREACHABLE_URI)]) == 1
    error = capsys.readouterr().err
    assert "unreachable" in error and "virtdancer-test.sock" in error


PIPELINE_INI = """\
[pipeline:main]
pipeline =
    accesslog
    virtdancer

[filter:accesslog]
use = egg:virtdancer#accesslog

[app:virtdancer]
use = egg:virtdancer
virtdancer.libvirt_uri = test:///virtdancer:demo/fleet.xml
"""


def test_check_finds_virtdancer_at_the_end_of_a_pipeline(tmp_path, capsys):
    path = tmp_path / "pipeline.ini"
    path.write_text(PIPELINE_INI)
    assert cli.main(["check", str(path)]) == 0
    assert capsys.readouterr().out.strip().endswith("fleet.xml: 4 VMs, 3 running")


def test_production_ini_settings_are_found_through_its_pipeline():
    settings = cli.app_settings(str(REPO / "production.ini"))
    assert settings["virtdancer.users_file"] == "/etc/virtdancer/users.ini"
    assert settings["virtdancer.console.listen"] == "127.0.0.1:6544"


def test_a_composite_needs_virtdancers_section_named(capsys):
    portal = str(REPO / "examples" / "portal.ini")
    assert cli.main(["check", portal]) == 2
    assert f"name VirtDancer's section, as in {portal}#virtdancer" in capsys.readouterr().err
    assert cli.main(["check", f"{portal}#virtdancer"]) == 0
    assert capsys.readouterr().out.strip().endswith("fleet.xml: 4 VMs, 3 running")
    # The pipeline section in front of it names it as well.
    assert cli.app_settings(f"{portal}#virt")["virtdancer.session.secure"] == "false"


def test_a_command_is_required(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([])
    assert exit_info.value.code == 2


# hash-password

class _Input(io.StringIO):
    def __init__(self, text, terminal=False):
        super().__init__(text)
        self.terminal = terminal

    def isatty(self):
        return self.terminal


def test_hash_password_reads_two_lines_of_stdin(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", _Input("s3cret pass \ns3cret pass \n"))
    assert cli.main(["hash-password"]) == 0
    out, err = capsys.readouterr()
    hashed = out.strip()
    assert out == hashed + "\n" and hashed.startswith("$argon2id$")
    assert check_password("s3cret pass ", hashed) == (True, None)
    assert check_password("s3cret pass", hashed) == (False, None)
    assert "s3cret" not in err


def test_hash_password_takes_crlf_as_a_line_ending(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", _Input("pw\r\npw"))
    assert cli.main(["hash-password"]) == 0
    assert check_password("pw", capsys.readouterr().out.strip())[0]


@pytest.mark.parametrize("text, problem", [
    ("pw-alpha\npw-beta\n", "differ"),
    ("pw-alpha\n", "differ"),
    ("pw-alpha\npw-alpha \n", "differ"),
    ("\n\n", "empty"),
    ("", "empty"),
])
def test_hash_password_refuses_mismatched_or_empty_input(monkeypatch, capsys, text, problem):
    monkeypatch.setattr(sys, "stdin", _Input(text))
    assert cli.main(["hash-password"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert problem in err and "pw-" not in err


def test_hash_password_prompts_on_a_terminal(monkeypatch, capsys):
    answers = iter(["typed secret", "typed secret"])
    prompts = []

    def fake_getpass(prompt, stream=None):
        prompts.append((prompt, stream))
        return next(answers)

    monkeypatch.setattr(sys, "stdin", _Input("", terminal=True))
    monkeypatch.setattr(cli.getpass, "getpass", fake_getpass)
    assert cli.main(["hash-password"]) == 0
    out, err = capsys.readouterr()
    assert check_password("typed secret", out.strip()) == (True, None)
    assert len(prompts) == 2 and all(stream is sys.stderr for _, stream in prompts)
    assert "typed secret" not in err


def test_hash_password_on_a_terminal_refuses_a_mismatch(monkeypatch, capsys):
    answers = iter(["typed secret", "typo secret"])
    monkeypatch.setattr(sys, "stdin", _Input("", terminal=True))
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt, stream=None: next(answers))
    assert cli.main(["hash-password"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "differ" in err and "secret" not in err


def test_hash_password_on_a_terminal_can_be_cancelled(monkeypatch, capsys):
    def cancel(prompt, stream=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(sys, "stdin", _Input("", terminal=True))
    monkeypatch.setattr(cli.getpass, "getpass", cancel)
    assert cli.main(["hash-password"]) == 1
    assert capsys.readouterr().out == ""


# import-users

SHA512_HASH = sha512_crypt("secret", "$6$saltsaltsalt")
ARGON2_HASH = hash_password("other secret")

CONFIG_YML = """\
appname: "VirtDancer"
libvirt_uri: "qemu:///system"
users:
  admin:
    password: "{sha}"
    filters:
      prefix:
        - ""
      suffix:
      exact:
  tenant:
    password: "{sha}"
    filters:
      prefix: ["web-"]
      exact: ["db-1"]
  tester:
    password: "{argon2}"
    filters:
      suffix: ["-test", "-qa"]
      exact: ["db-1", "db-2", ""]
  nobody:
    password: "{sha}"
""".format(sha=SHA512_HASH, argon2=ARGON2_HASH)


def _config(users):
    return {"appname": "VirtDancer", "users": users}


def test_import_users_converts_the_first_virtdancers_users():
    text = users_file_from_config(yaml.safe_load(CONFIG_YML), "old/config.yml")
    assert text.startswith("#") and "old/config.yml" in text.splitlines()[0]
    assert "next successful login" in text
    users = parse_users(text)
    assert users == {
        "admin": User("admin", SHA512_HASH, "operator", all_vms=True),
        "tenant": User("tenant", SHA512_HASH, "operator", exact=frozenset({"db-1"}),
                       prefixes=("web-",)),
        "tester": User("tester", ARGON2_HASH, "operator", exact=frozenset({"db-1", "db-2"}),
                       suffixes=("-test", "-qa")),
        "nobody": User("nobody", SHA512_HASH, "operator"),
    }
    assert "sees no VMs" in text.split("[nobody]")[1]
    assert users["admin"].sees("anything") and not users["nobody"].sees("anything")
    assert users["tenant"].sees("web-1") and not users["tenant"].sees("db-10")
    matches, new_hash = check_password("secret", users["tenant"].password_hash)
    assert matches and new_hash.startswith("$argon2id$")
    assert check_password("other secret", users["tester"].password_hash) == (True, None)


def test_import_users_empty_suffix_means_every_vm():
    text = users_file_from_config(_config({"x": {"password": SHA512_HASH, "filters": {
        "suffix": ["-a", ""], "exact": ["db"]}}}))
    assert parse_users(text)["x"] == User("x", SHA512_HASH, "operator", all_vms=True)


@pytest.mark.parametrize("filters", [None, {}, {"prefix": None, "exact": []}, {"exact": [""]}])
def test_import_users_without_filters_sees_nothing(filters):
    entry = {"password": SHA512_HASH} if filters is None else {"password": SHA512_HASH,
                                                                "filters": filters}
    text = users_file_from_config(_config({"x": entry}))
    assert parse_users(text)["x"] == User("x", SHA512_HASH, "operator")
    assert "sees no VMs" in text


@pytest.mark.parametrize("role", ["viewer", "admin"])
def test_import_users_role(role):
    text = users_file_from_config(yaml.safe_load(CONFIG_YML), role=role)
    assert {user.role for user in parse_users(text).values()} == {role}


@pytest.mark.parametrize("users, problem", [
    ({"": {"password": SHA512_HASH}}, "''"),
    ({"a[b": {"password": SHA512_HASH}}, "'a[b'"),
    ({"a]b": {"password": SHA512_HASH}}, "'a]b'"),
    ({"a\nb": {"password": SHA512_HASH}}, "'a\\nb'"),
    ({7: {"password": SHA512_HASH}}, "7"),
    ({"bob": {"filters": {"prefix": ["x"]}}}, "'bob': no password"),
    ({"bob": {"password": None}}, "'bob': no password"),
    ({"bob": None}, "'bob'"),
    ({"bob": {"password": "$6$broken"}}, "'bob': the password is not"),
    ({"bob": {"password": "$argon2id$nonsense"}}, "'bob': the password is not"),
    ({"bob": {"password": SHA512_HASH, "filters": {"prefix": ["a,b"]}}}, "'a,b'"),
    ({"bob": {"password": SHA512_HASH, "filters": {"exact": [" web"]}}}, "' web'"),
    ({"bob": {"password": SHA512_HASH, "filters": {"suffix": ["web\n"]}}}, "'web\\n'"),
    ({"bob": {"password": SHA512_HASH, "filters": {"exact": [101]}}}, "101"),
    ({"bob": {"password": SHA512_HASH, "filters": {"exact": "web"}}}, "list"),
    ({"bob": {"password": SHA512_HASH, "filters": {"regex": ["web"]}}}, "regex"),
    ({"bob": {"password": SHA512_HASH, "filters": ["web"]}}, "'bob'"),
    ({"virtdancer: no defaults": {"password": SHA512_HASH}}, "no defaults"),
    ({}, "no `users:`"),
])
def test_import_users_refuses_what_a_users_file_cannot_hold(users, problem):
    with pytest.raises(UsersImportError) as error:
        users_file_from_config(_config(users))
    assert problem in str(error.value)


def test_import_users_does_not_echo_a_plain_text_password():
    with pytest.raises(UsersImportError) as error:
        users_file_from_config(_config({"bob": {"password": "hunter2"}}))
    assert "'bob'" in str(error.value) and "hunter2" not in str(error.value)


@pytest.fixture
def config_yml(tmp_path):
    path = tmp_path / "config.yml"
    path.write_text(CONFIG_YML)
    return path


def test_import_users_command_writes_to_stdout(config_yml, capsys):
    assert cli.main(["import-users", str(config_yml), "--role", "viewer"]) == 0
    users = parse_users(capsys.readouterr().out)
    assert list(users) == ["admin", "tenant", "tester", "nobody"]
    assert users["tenant"].role == "viewer"


def test_import_users_command_writes_a_private_file(config_yml, tmp_path, capsys):
    output = tmp_path / "users.ini"
    assert cli.main(["import-users", str(config_yml), "-o", str(output)]) == 0
    assert capsys.readouterr().out == ""
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    assert set(parse_users(output.read_text())) == {"admin", "tenant", "tester", "nobody"}

    output.write_text("keep me")
    assert cli.main(["import-users", str(config_yml), "-o", str(output)]) == 1
    assert "--force" in capsys.readouterr().err
    assert output.read_text() == "keep me"

    output.chmod(0o644)
    assert cli.main(["import-users", str(config_yml), "-o", str(output), "--force"]) == 0
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    assert "tenant" in parse_users(output.read_text())
    assert {path.name for path in tmp_path.iterdir()} == {"config.yml", "users.ini"}


@pytest.mark.parametrize("text", ["users: [unclosed\n", "users:\n  a: b\n c: d\n", "\tusers:\n"])
def test_import_users_command_reports_malformed_yaml(tmp_path, capsys, text):
    config = tmp_path / "config.yml"
    config.write_text(text)
    output = tmp_path / "users.ini"
    assert cli.main(["import-users", str(config), "-o", str(output)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and not output.exists()
    assert err.count("\n") == 1 and "not valid YAML" in err and "line" in err


@pytest.mark.parametrize("text", ["", "appname: VirtDancer\n", "- a list\n", "users:\n"])
def test_import_users_command_needs_users(tmp_path, capsys, text):
    config = tmp_path / "config.yml"
    config.write_text(text)
    assert cli.main(["import-users", str(config)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "no `users:`" in err


def test_import_users_command_refuses_a_bad_user(tmp_path, capsys):
    config = tmp_path / "config.yml"
    config.write_text(CONFIG_YML + '  "ev[il":\n    password: "plain text"\n')
    output = tmp_path / "users.ini"
    assert cli.main(["import-users", str(config), "-o", str(output)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "'ev[il'" in err and not output.exists()


def test_import_users_command_reports_a_missing_file(tmp_path, capsys):
    assert cli.main(["import-users", str(tmp_path / "nope.yml")]) == 1
    assert "nope.yml" in capsys.readouterr().err


def test_import_users_command_refuses_an_unknown_role(config_yml, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["import-users", str(config_yml), "--role", "root"])
    assert exit_info.value.code == 2
