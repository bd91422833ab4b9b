"""Repository-wide pytest rule: keep eventlet-patched worker tests out of the grpcio process (DESIGN D1).

A `services/<svc>/tests/worker/conftest.py` monkey-patches eventlet when pytest imports it,
after which grpcio hangs. pytest imports a directory's conftest as soon as it collects the
directory, so worker directories are skipped unless named on the command line
(`make test` runs each in its own pytest process).
"""

import os
from pathlib import Path

# Tests run in development mode: the services they start trust the development signing key of the
# tests' tokens (coop_testkit.bearer). Tests of the production rules turn it off.
os.environ.setdefault("COOP_DEV_MODE", "1")


def _is_worker_dir(path: Path) -> Path | None:
    for candidate in (path, *path.parents):
        if candidate.name == "worker" and candidate.parent.name == "tests":
            return candidate
    return None


def pytest_ignore_collect(collection_path, config):
    worker_dir = _is_worker_dir(Path(collection_path))
    if worker_dir is None:
        return None
    for arg in config.args:
        wanted = Path(arg.split("::")[0]).resolve()
        if wanted == worker_dir or worker_dir in wanted.parents:
            return None
    return True
