"""The membership nameko worker against the real RabbitMQ, in its own eventlet-patched pytest process.

Run as: .venv/bin/pytest services/membership/tests/worker (never together with the grpcio tests,
DESIGN D1). The worker module caches its settings, so the database URL is set here before it is
imported: a SQLite file in a temporary directory, migrated once.

`--ignore-glob='*/tests/worker/*'` skips the test files, but pytest still imports this conftest
while walking the directory, and monkey-patching then would hang every grpcio server of that
run. So the patch, and everything worker-specific, happens only when the command line targets
this directory; otherwise nothing here is collected.
"""

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _run_targets_this_directory() -> bool:
    paths = [Path(a.split("::")[0]).resolve() for a in sys.argv[1:] if not a.startswith("-")]
    paths = [p for p in paths if p.exists()] or [Path.cwd().resolve()]
    return any(p == _HERE or _HERE in p.parents for p in paths)


WORKER_RUN = _run_targets_this_directory()
if WORKER_RUN:
    import eventlet

    eventlet.monkey_patch()

import contextlib  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import uuid  # noqa: E402
from datetime import date  # noqa: E402

import pytest  # noqa: E402

if WORKER_RUN:
    _DATA_DIR = Path(tempfile.mkdtemp(prefix="membership-worker-tests-"))
    os.environ["COOP_DATABASE_URL"] = f"sqlite:///{_DATA_DIR / 'membership.db'}"
    os.environ["COOP_METRICS_PORT"] = "0"
    # failed events are retried after 0.2 s then 0.4 s, and given up within 1.5 s
    os.environ["COOP_EVENT_RETRY_DELAYS"] = "0.2,0.4"
    os.environ["COOP_EVENT_RETRY_MAX_SECONDS"] = "1.5"
    os.environ.setdefault("COOP_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")

    from kombu import Connection, Queue

    from coop_domain.principal import system_principal
    from coop_membership.domain.model import Category, MemberDetails
    from coop_membership.entrypoints import worker as worker_module
    from coop_membership.service_layer import members
    from coop_platform.migrations import upgrade
    from coop_platform.worker import nameko_config
    from coop_testkit import AMQP_URL

    upgrade("membership", os.environ["COOP_DATABASE_URL"])
else:
    collect_ignore_glob = ["*"]


def pytest_sessionfinish(session, exitstatus):
    if WORKER_RUN:
        worker_module.engine().dispose()
        shutil.rmtree(_DATA_DIR, ignore_errors=True)


def delete_queues(*names: str) -> None:
    with Connection(AMQP_URL) as conn:
        for name in names:
            with contextlib.suppress(Exception):
                Queue(name)(conn.channel()).delete()


@pytest.fixture
def worker_service():
    """The real MembershipWorker under a unique service name, so its queue is this test's alone
    (another membership worker on the same broker must not take our messages). Its queues are
    deleted before and after."""
    name = f"membership_test_{uuid.uuid4().hex[:8]}"
    cls = type("MembershipWorkerUnderTest", (worker_module.MembershipWorker,), {"name": name})
    queue = f"evt-billing-share.paid--{name}.on_share_paid"
    renamed = f"evt-billing-share_fee.paid--{name}.on_share_fee_paid"
    queues = [f"{q}{suffix}" for q in (queue, renamed) for suffix in ("", ".dlq", ".delay-200ms", ".delay-400ms")]
    delete_queues(*queues)
    yield cls, queue
    delete_queues(*queues)


@pytest.fixture
def running_worker(container_factory, worker_service):
    """A started nameko container (consumer + outbox relay) on the real broker; returns its queue."""
    cls, queue = worker_service
    container = container_factory(cls, {**_config(), "max_workers": 4})
    container.start()
    yield queue
    container.stop()


def _config():
    return nameko_config(worker_module.settings())


@pytest.fixture
def old():
    """Makes an active member not in good standing (joined 2014, nothing paid)."""
    return old_member


def old_member(admit: bool = True):
    """An active member who joined long ago and has not paid this year: not in good standing."""
    tag = uuid.uuid4().hex[:10]
    details = MemberDetails(given_name="Grace", family_name="Hopper", email=f"w{tag}@example.org",
                            country_of_residence="BE", preferred_language="en", category=Category.USER,
                            joined_on=date(2014, 2, 1))
    return members.register_member(worker_module.uow_factory(), system_principal("membership"), details,
                                   admit=admit)
