"""Settings: one table of every virtdancer.* key; a wrong or misspelt one is one line."""

import re
from pathlib import Path

import pytest

from virtdancer.settings import SETTINGS

from .conftest import make_app

README = Path(__file__).resolve().parents[1] / "README.md"
ROW = re.compile(r"^\| `(virtdancer\.[a-z_.]+)` \| ([^|]+) \|")


def readme_table():
    """{setting: default as README writes it} from README's table of settings."""
    return {match[1]: match[2].strip() for match in map(ROW.match, README.read_text()
                                                       .splitlines()) if match}


def test_readme_lists_every_setting_and_no_other():
    assert set(readme_table()) == set(SETTINGS)


@pytest.mark.parametrize("name", sorted(name for name, setting in SETTINGS.items()
                                        if setting.kind in ("integer", "seconds", "flag",
                                                            "choice")))
def test_readme_gives_the_default_the_code_has(name):
    written = readme_table()[name].strip("`")
    default = SETTINGS[name].default
    if isinstance(default, bool):
        assert written == str(default).lower()
    elif isinstance(default, (int, float)):
        assert float(written) == float(default)
    else:
        assert written == default


@pytest.mark.parametrize("settings, says", [
    ({"virtdancer.session.timout": "60"},
     "virtdancer.session.timout is not a VirtDancer setting (did you mean "
     "virtdancer.session.timeout?)"),
    ({"virtdancer.session.timeout": "an hour"},
     "virtdancer.session.timeout = 'an hour': a whole number"),
    ({"virtdancer.stats.interval": "0"}, "virtdancer.stats.interval = '0': at least 0.1"),
    ({"virtdancer.session.secure": "maybe"},
     "virtdancer.session.secure = 'maybe': say true or false"),
    ({"virtdancer.console.proxy": "outside"},
     "virtdancer.console.proxy = 'outside': one of inline, separate"),
    ({"virtdancer.keepalive_count": "nan"}, "virtdancer.keepalive_count = 'nan': a whole number"),
    ({"virtdancer.reconnect_max_delay": "inf"},
     "virtdancer.reconnect_max_delay = 'inf': at least 0.5"),
])
def test_a_wrong_setting_is_one_line_naming_it(capsys, settings, says):
    with pytest.raises(SystemExit) as exit_info:
        make_app(**settings)
    assert exit_info.value.code == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line == f"VirtDancer cannot start: {says}"
