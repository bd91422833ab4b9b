"""`make run` and `make bench` install the native libraries the services load, not only `make
test`: on a fresh machine without libdecaf0 the elections api checked every proof through
libsodium alone, 3x slower, and nothing said so (found by a bench run at 59 ballots/s)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _prerequisites(target: str) -> list[str]:
    match = re.search(rf"^{target}:([^\n=]*)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert match, f"the Makefile has no rule for {target}"
    return match.group(1).split()


@pytest.mark.parametrize("target", ["run", "bench"])
def test_make_target_installs_the_native_libraries_first(target):
    assert "native" in _prerequisites(target)


def test_make_native_ensures_only_libsodium_and_libdecaf_and_both_are_there_after_it():
    done = subprocess.run(["bash", "scripts/ensure_tools.sh", "--libraries"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["libsodium", "libdecaf"], done.stdout
    assert done.returncode == 0, done.stdout
    assert not any("MISSING" in line for line in lines)
