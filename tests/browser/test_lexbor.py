"""sockweb.browser.lexbor: selectolax loaded without logging, its logger still working.

Each case runs in a fresh interpreter: what is being checked is what an
import does to ``sys.modules``, which this test process has long settled.
"""

from __future__ import annotations

import subprocess
import sys


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)


def test_parsing_a_page_does_not_import_logging() -> None:
    done = _run(
        "import sys\n"
        "from sockweb.browser.layout import render\n"
        "page = render(b'<p>Hi <a href=x>there</a></p>', 'http://h/')\n"
        "assert page.links[0].url == 'http://h/x', page.links\n"
        "print(sorted(m for m in sys.modules if m == 'logging' or m.startswith('logging.')))\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_real_logging_module_is_there_after_the_import() -> None:
    done = _run(
        "import sockweb.browser.dom\n"
        "import logging, logging.handlers\n"
        "assert hasattr(logging, 'basicConfig') and hasattr(logging, 'Logger')\n"
        "logging.basicConfig(format='%(name)s:%(levelname)s:%(message)s')\n"
        "logging.getLogger('app').warning('from the app')\n"
    )
    assert done.returncode == 0, done.stderr
    assert "app:WARNING:from the app" in done.stderr


def test_selectolax_logger_reaches_the_real_logging_when_used() -> None:
    done = _run(
        "import sys, sockweb.browser.dom, selectolax.lexbor as lexbor\n"
        "lexbor.logger.error('unwrap of a removed node')\n"
        "assert lexbor.logger.name == 'selectolax'\n"
    )
    assert done.returncode == 0, done.stderr
    # logging's last-resort handler prints a message when no handler is configured
    assert "unwrap of a removed node" in done.stderr


def test_with_logging_imported_first_selectolax_gets_a_real_logger() -> None:
    done = _run(
        "import logging, sockweb.browser.dom, selectolax.lexbor as lexbor\n"
        "assert isinstance(lexbor.logger, logging.Logger), type(lexbor.logger)\n"
    )
    assert done.returncode == 0, done.stderr
