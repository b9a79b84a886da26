"""VirtDancer's settings: every `virtdancer.*` key, its kind and its default, in one table.

Every module reads its settings through `value(settings, name)`, so a setting is parsed one way
wherever it is used, and `check(settings)` refuses a configuration at start-up with one line
naming the setting that is wrong (or misspelt). README's table of settings is tested against
this one.
"""

import difflib
import math
from dataclasses import dataclass

from pyramid.exceptions import ConfigurationError

PREFIX = "virtdancer."


class SettingsError(ConfigurationError):
    """A `virtdancer.*` setting VirtDancer cannot use; the message names it."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    kind: str                   # text, lines, integer, seconds, flag, or choice
    choices: tuple = ()
    minimum: float = None


SETTINGS = {setting.name: setting for setting in (
    Setting("virtdancer.hosts", "", "text"),
    Setting("virtdancer.default_host", "", "text"),
    Setting("virtdancer.libvirt_uri", "qemu:///system", "text"),
    Setting("virtdancer.users_file", "", "text"),
    Setting("virtdancer.users_file.check_interval", 0.1, "seconds", minimum=0),
    Setting("virtdancer.secret", "", "text"),
    Setting("virtdancer.session.secure", True, "flag"),
    Setting("virtdancer.session.timeout", 28800, "integer", minimum=1),
    Setting("virtdancer.session.max_age", 86400, "integer", minimum=1),
    Setting("virtdancer.login.max_failures_per_user", 5, "integer", minimum=1),
    Setting("virtdancer.login.max_failures_per_address", 20, "integer", minimum=1),
    Setting("virtdancer.login.max_failures_per_name", 100, "integer", minimum=1),
    Setting("virtdancer.login.failure_window", 300.0, "seconds", minimum=1),
    Setting("virtdancer.tokens.max_failures_per_address", 100, "integer", minimum=1),
    Setting("virtdancer.state_file", "", "text"),
    Setting("virtdancer.audit.enabled", True, "flag"),
    Setting("virtdancer.audit.retention_days", 30, "integer", minimum=1),
    Setting("virtdancer.tasks.per_host", 4, "integer", minimum=1),
    Setting("virtdancer.tasks.keep_days", 30.0, "seconds", minimum=0),
    Setting("virtdancer.max_body_bytes", 65536, "integer", minimum=1),
    Setting("virtdancer.upload.max_bytes", 8 * 1024 ** 3, "integer", minimum=1),
    Setting("virtdancer.allowed_origins", (), "lines"),
    Setting("virtdancer.stats.interval", 2.0, "seconds", minimum=0.1),
    Setting("virtdancer.stats.history", 600.0, "seconds", minimum=0),
    Setting("virtdancer.console.listen", "", "text"),
    Setting("virtdancer.console.proxy", "inline", "choice", choices=("inline", "separate")),
    Setting("virtdancer.console.public_url", "", "text"),
    Setting("virtdancer.console.allowed_origins", (), "lines"),
    Setting("virtdancer.novnc_path", "", "text"),
    Setting("virtdancer.events.keep", 1000, "integer", minimum=1),
    Setting("virtdancer.events.queue", 256, "integer", minimum=1),
    Setting("virtdancer.keepalive_interval", 5, "integer", minimum=1),
    Setting("virtdancer.keepalive_count", 3, "integer", minimum=1),
    Setting("virtdancer.reconnect_max_delay", 15.0, "seconds", minimum=0.5),
)}

# Pyramid's asbool spellings, for settings and for yes/no query parameters alike.
YES = frozenset({"1", "t", "true", "y", "yes", "on"})
NO = frozenset({"0", "f", "false", "n", "no", "off"})


def value(settings, name):
    """The setting `name` from a Pyramid settings dict, parsed, or its default."""
    setting = SETTINGS[name]
    raw = settings.get(name)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return setting.default
    if not isinstance(raw, str):
        return raw          # a host portal passed a Python value itself
    return _parse(setting, raw.strip())


def _parse(setting, text):
    def wrong(why):
        return SettingsError(f"{setting.name} = {text[:80]!r}: {why}")

    if setting.kind == "text":
        return text
    if setting.kind == "lines":
        return tuple(line.strip() for line in text.splitlines() if line.strip())
    if setting.kind == "flag":
        if text.lower() in YES:
            return True
        if text.lower() in NO:
            return False
        raise wrong("say true or false")
    if setting.kind == "choice":
        if text not in setting.choices:
            raise wrong(f"one of {', '.join(setting.choices)}")
        return text
    try:
        number = int(text) if setting.kind == "integer" else float(text)
    except ValueError:
        raise wrong("a whole number" if setting.kind == "integer"
                    else "a number of seconds") from None
    if not math.isfinite(number) or (setting.minimum is not None and number < setting.minimum):
        raise wrong(f"at least {setting.minimum:g}")
    return number


def check(settings):
    """Raise `SettingsError` for the first `virtdancer.*` setting that is unknown or wrong."""
    for name in settings:
        if name.startswith(PREFIX) and name not in SETTINGS:
            close = difflib.get_close_matches(name, SETTINGS, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise SettingsError(f"{name} is not a VirtDancer setting{hint}")
    for name in SETTINGS:
        value(settings, name)
