"""App modules that the app-hosting tests serve with ``sockweb serve --app``.

Each module is imported by the server process (``--app-dir`` points here),
never by the tests themselves, except for the shared JSON helpers in
:mod:`tests.server.apps.typedjson`.
"""
