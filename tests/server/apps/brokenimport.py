"""An app module whose own import of a missing dependency fails.

The missing module, ``broken``, is a prefix of this module's name: the error
must still name the dependency, not claim that this module does not exist.
"""

import broken  # type: ignore[import-not-found]  # noqa: F401

app = None
