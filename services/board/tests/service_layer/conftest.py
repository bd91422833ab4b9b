"""Use-case tests on the in-memory fakes (tests/fakes.py): no database, no broker."""

import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parent.parent)]
