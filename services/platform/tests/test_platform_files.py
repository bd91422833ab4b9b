"""coop_platform.files.write_atomically: whole or not at all, public or private from the start."""

from __future__ import annotations

import stat

import pytest

from coop_platform.files import write_atomically


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_chunks_are_written_as_they_come_and_a_public_file_is_readable_by_all(tmp_path):
    target = tmp_path / "record.json"
    write_atomically(target, (part.encode() for part in ("{", '"a"', ": 1}")))
    assert target.read_bytes() == b'{"a": 1}' and _mode(target) == 0o644
    write_atomically(target, [b"again"])
    assert target.read_bytes() == b"again"


def test_a_private_file_is_readable_by_its_owner_only(tmp_path):
    target = tmp_path / "key.json"
    write_atomically(target, [b"secret"], private=True)
    assert _mode(target) == 0o600


def test_a_failure_while_writing_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "record.json"
    write_atomically(target, [b"old"])

    def failing():
        yield b"half"
        raise RuntimeError("the source broke")

    with pytest.raises(RuntimeError):
        write_atomically(target, failing())
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["record.json"]


def test_without_overwrite_an_existing_file_is_kept(tmp_path):
    target = tmp_path / "key.json"
    write_atomically(target, [b"first"], overwrite=False)
    with pytest.raises(FileExistsError):
        write_atomically(target, [b"second"], overwrite=False)
    assert target.read_bytes() == b"first" and len(list(tmp_path.iterdir())) == 1
