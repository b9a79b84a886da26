"""The access log filter (virtdancer.accesslog): one line per request, no secrets in it."""

import configparser
import logging
import re
from pathlib import Path

import pytest
import webtest

from virtdancer.accesslog import AccessLog, filter_app_factory

LINE = re.compile(r'(?P<client>\S+) "(?P<method>\S+) (?P<path>\S+)" (?P<status>\S+) '
                  r'(?P<bytes>\d+) (?P<ms>[\d.]+)ms')


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello, ", b"world"]


@pytest.fixture
def lines(caplog):
    caplog.set_level(logging.INFO, logger="virtdancer.access")

    def read():
        return [LINE.fullmatch(record.getMessage()) for record in caplog.records
                if record.name == "virtdancer.access"]
    return read


def client(app, **environ):
    return webtest.TestApp(AccessLog(app), extra_environ={"REMOTE_ADDR": "192.0.2.1",
                                                          **environ})


def test_one_line_per_request_with_its_facts(lines, caplog):
    client(hello).get("/virt/vm", extra_environ={"SCRIPT_NAME": ""})
    line, = lines()
    assert line.group("client", "method", "path", "status", "bytes") == \
        ("192.0.2.1", "GET", "/virt/vm", "200", "12")
    assert float(line["ms"]) >= 0
    record, = caplog.records
    assert record.levelno == logging.INFO
    # The same facts as fields, for handlers that write structured logs.
    fields = dict(record.access)
    assert fields.pop("duration_ms") >= 0
    assert fields == {"client_addr": "192.0.2.1", "method": "GET", "path": "/virt/vm",
                      "status": "200", "bytes": 12}


def test_the_mount_point_is_part_of_the_path(lines):
    client(hello, SCRIPT_NAME="/virt").get("/vm")
    assert lines()[0]["path"] == "/virt/vm"


def test_never_the_query_string_nor_headers(lines, caplog):
    client(hello).get("/vm/console?token=secret-token",
                      headers={"Authorization": "Basic YWRtaW46YWRtaW4=",
                               "Cookie": "virtdancer_session=secret-cookie"})
    assert lines()[0]["path"] == "/vm/console"
    for secret in ("secret-token", "token", "YWRtaW46YWRtaW4", "secret-cookie", "Basic"):
        assert secret not in caplog.text


def test_a_path_cannot_forge_log_lines(lines, caplog):
    # PATH_INFO as a server decodes it: %0A is a real newline by then, and %25 a percent sign.
    client(hello).get("/", extra_environ={
        "PATH_INFO": '/a\n127.0.0.1 "GET /admin" 200 0 1.0ms "%41 é'.encode().decode("latin-1")})
    message, = [record.getMessage() for record in caplog.records]
    assert "\n" not in message and message.count('"') == 2
    assert lines()[0]["path"] == \
        "/a%0A127.0.0.1%20%22GET%20/admin%22%20200%200%201.0ms%20%22%2541%20%C3%A9"


def test_bytes_written_through_write_are_counted(lines):
    def old_style(environ, start_response):
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"12345")
        return [b"678"]
    client(old_style).get("/")
    assert lines()[0]["bytes"] == "8"


def test_an_application_that_raises_is_logged_as_500(lines):
    def broken(environ, start_response):
        raise RuntimeError("bug")
    with pytest.raises(RuntimeError):
        client(broken).get("/boom")
    assert lines()[0].group("path", "status", "bytes") == ("/boom", "500", "0")


def test_a_body_that_fails_midway_is_logged_once_with_what_was_sent(lines):
    def failing(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"part"
        raise RuntimeError("lost the VM")
    with pytest.raises(RuntimeError):
        client(failing).get("/stream")
    line, = lines()
    assert line.group("status", "bytes") == ("200", "4")


def test_the_body_is_closed_and_the_line_written_once(lines):
    closed = []

    class Body:
        def __iter__(self):
            return iter([b"x"])

        def close(self):
            closed.append(True)

    def app(environ, start_response):
        start_response("204 No Content", [])
        return Body()
    body = AccessLog(app)({"REQUEST_METHOD": "GET", "PATH_INFO": "/"}, lambda *args: None)
    assert list(body) == [b"x"]
    body.close()
    body.close()
    assert closed == [True, True] and len(lines()) == 1
    assert lines()[0].group("client", "status") == ("-", "204")


def test_nothing_is_logged_below_info(caplog):
    caplog.set_level(logging.WARNING, logger="virtdancer.access")
    client(hello).get("/")
    assert caplog.records == []


def test_the_paste_filter_takes_no_options():
    assert isinstance(filter_app_factory(hello, {}), AccessLog)
    with pytest.raises(ValueError, match="takes no options.*level"):
        filter_app_factory(hello, {}, level="INFO")


def test_production_ini_logs_requests_only_when_asked_to():
    """production.ini serves through the filter; its access logger stays quiet until an operator
    sets it to INFO (README, "Running in production")."""
    ini = configparser.ConfigParser(interpolation=None)
    ini.read(Path(__file__).resolve().parents[1] / "production.ini")
    assert ini["pipeline:main"]["pipeline"].split() == ["accesslog", "virtdancer"]
    assert ini["filter:accesslog"]["use"] == "egg:virtdancer#accesslog"
    assert "access" in [key.strip() for key in ini["loggers"]["keys"].split(",")]
    assert ini["logger_access"]["qualname"] == "virtdancer.access"
    assert ini["logger_access"]["level"] == "WARN"
