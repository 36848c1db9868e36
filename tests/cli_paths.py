"""Where the command line lives in this environment."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

EXE = shutil.which("undersigned", path=str(Path(sys.executable).parent)) or "undersigned"
