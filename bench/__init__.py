"""The benchmark command: every hot path of the spine beside its limit, measured in one run on
one broker and one database (`python -m bench`, see bench/__main__.py).

Importing this package puts the checkout it lives in first on the import path — for this
process and, through PYTHONPATH, for every service process it starts — so that a copy of the
checkout (a git worktree of an older commit) measures its own code, not the editable install's.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE_DIRS = [
    ROOT,
    ROOT / "services" / "enrollment" / "src",
    ROOT / "services" / "awards" / "src",
    ROOT / "services" / "notifications" / "src",
]


def _code_of_this_checkout_first() -> None:
    paths = [str(p) for p in SOURCE_DIRS]
    sys.path[:] = paths + [p for p in sys.path if p not in paths]
    inherited = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    os.environ["PYTHONPATH"] = os.pathsep.join(paths + [p for p in inherited if p not in paths])


_code_of_this_checkout_first()
