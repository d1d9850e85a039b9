"""The ``fpsearch`` command line: parse, call one library function, print.

Errors the user can fix come out as one line on stderr and a non-zero exit, never a traceback.

Each command lives in the module of its kind (``build``, ``ask``, ``manage``, ``serving``); ``common``
holds the app, the shared options and the error handling. Importing the modules registers their
commands, in the order ``fpsearch --help`` lists them.
"""

from __future__ import annotations

# importing a module registers its commands, in this order in `fpsearch --help`
from . import build  # noqa: F401

# isort: split
from . import ask  # noqa: F401

# isort: split
from . import manage, serving  # noqa: F401
from .common import app

__all__ = ["app", "main"]


def main() -> None:
    app(prog_name="fpsearch")
