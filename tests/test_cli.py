"""The ``sockweb`` command itself (cli.py): what every subcommand shares."""

from __future__ import annotations

import argparse
import gettext
import subprocess
import sys

import pytest

from sockweb.cli import main

TIMEOUT = 30


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sockweb", *args], capture_output=True,
                          text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("command", ["get", "browse"])
def test_get_and_browse_start_without_locale(command: str) -> None:
    """argparse's strings are not looked up in gettext's catalogs (whose first
    look-up imports locale): 1.2-1.5 ms of every short-lived command."""
    code = ("import sys\n"
            f"sys.argv = ['sockweb', {command!r}, '--help']\n"
            "from sockweb.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('locale' in sys.modules, file=sys.stderr)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=TIMEOUT, check=True)
    assert out.stdout.startswith(f"usage: sockweb {command} ")
    assert out.stderr.strip() == "False"


@pytest.mark.parametrize("command", ["get", "browse"])
def test_argparse_still_says_its_own_words(command: str) -> None:
    helped = run(command, "--help")
    assert helped.returncode == 0
    assert "\noptions:\n" in helped.stdout
    assert "show this help message and exit" in helped.stdout
    missing = run(command)
    assert missing.returncode == 2
    assert missing.stderr.startswith(f"usage: sockweb {command} ")
    assert "error: the following arguments are required: url" in missing.stderr
    bad = run(command, "http://x/", "--no-such-option")
    assert "error: unrecognized arguments: --no-such-option" in bad.stderr


def test_main_given_arguments_leaves_argparse_alone() -> None:
    """A program that calls main([...]) keeps argparse as it had it."""
    with pytest.raises(SystemExit):
        main(["get", "--help"])
    assert argparse._ is gettext.gettext  # type: ignore[attr-defined]
    assert argparse.ngettext is gettext.ngettext  # type: ignore[attr-defined]
