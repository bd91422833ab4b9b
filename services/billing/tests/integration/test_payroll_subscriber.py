"""The example payroll subscriber receives every contract event exactly once, even when the broker
becomes unreachable mid-stream (TcpProxy cut) and when events are re-published (duplicates).

Real PostgreSQL (billing database) and RabbitMQ; the subscriber reaches the broker through the
proxy, the outbox relay directly. No eventlet here: the relay is plain kombu.
"""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import threading
import time
import uuid
from datetime import date

import pytest
from kombu import Connection
from sqlalchemy import text

from coop_billing.adapters.messages import CONTRACT_REPLY, INVOICE_REPLY
from coop_billing.domain.contract import ContractTerms
from coop_billing.entrypoints import grpc_api, membership_events
from coop_billing.service_layer import clients, contracts, invoice_issuing, invoices
from coop_domain.principal import Principal
from coop_platform.amqp import ConfirmingPublisher
from coop_platform.config import Settings
from coop_platform.envelope import make_envelope
from coop_platform.migrations import upgrade
from coop_platform.outbox import OutboxRelay
from coop_testkit import AMQP_URL, REPO_ROOT, TcpProxy, postgres_database, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]


def _load_subscriber():
    path = REPO_ROOT / "examples" / "payroll_subscriber" / "subscriber.py"
    spec = importlib.util.spec_from_file_location("payroll_subscriber", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _member_with_budget(uow_factory) -> tuple[str, str]:
    member_id = str(uuid.uuid4())
    env = make_envelope("membership", "member.admitted", {"member": {
        "memberId": member_id, "memberNumber": "M000777", "givenName": "Marie", "familyName": "Dubois",
        "preferredLanguage": "fr"}})
    membership_events.handle(uow_factory, "member.admitted", env)
    env = make_envelope("membership", "member.status_changed", {
        "memberId": member_id, "toStatus": "MEMBER_STATUS_ACTIVE", "inGoodStanding": True})
    membership_events.handle(uow_factory, "member.status_changed", env)
    activity = clients.create_activity(uow_factory(), ADMIN, member_id, "Design", "74.10")
    client, _ = clients.create_client(uow_factory(), ADMIN, "Client", "BE", "Rue 1", "")
    client_id = client.client_id
    from coop_billing.domain.invoice import InvoiceLine

    invoice = invoice_issuing.create_invoice(uow_factory(), invoice_issuing.new_invoice(
        ADMIN, member_id, activity.activity_id, client_id, [InvoiceLine("Big job", "1", 100_000_000, "0")],
        issue=True), INVOICE_REPLY)
    invoices.record_payment(uow_factory(), ADMIN, invoice.invoice_id, "bank-1", 100_000_000, None,
                            INVOICE_REPLY)  # the budget
    return member_id, activity.activity_id


ADMIN = Principal("admin-1", roles=frozenset({"admin"}))


def _terms(gross: int) -> ContractTerms:
    return ContractTerms(date(2031, 5, 1), date(2031, 5, 31), gross, "Graphic designer", "200", days=5)


def test_payroll_subscriber_loses_nothing_and_doubles_nothing_across_a_broker_cut(tmp_path):
    sub_mod = _load_subscriber()
    proxy = TcpProxy()
    queue = f"payroll.test-{uuid.uuid4().hex[:8]}"
    with postgres_database("coop_billing_payroll") as url:
        upgrade("billing", url)
        engine, _register, uow_factory = grpc_api.build(Settings(service_name="billing", database_url=url))
        member_id, activity_id = _member_with_budget(uow_factory)
        subscriber = sub_mod.PayrollSubscriber(proxy.url, queue, str(tmp_path / "payroll.sqlite3"),
                                               reconnect_pause=0.2)
        # the relay reaches the broker directly: it is the subscriber that loses the broker here
        relay = OutboxRelay(engine, lambda: ConfirmingPublisher(AMQP_URL, connect_timeout=1),
                            poll_seconds=0.02, max_backoff_seconds=0.3)
        threads = [threading.Thread(target=subscriber.run, daemon=True),
                   threading.Thread(target=relay.run_forever, daemon=True)]
        threads[0].start()
        assert subscriber.ready.wait(15), "subscriber never declared its queue"
        threads[1].start()
        try:
            requested = []
            for i in range(10):
                requested.append(contracts.request_contract(uow_factory(), ADMIN, member_id, activity_id,
                                                            _terms(100_000 + i), CONTRACT_REPLY))
            time.sleep(0.05)
            proxy.cut()  # mid-stream: some events published, some acked, some in flight
            for i in range(10):
                requested.append(contracts.request_contract(uow_factory(), ADMIN, member_id, activity_id,
                                                            _terms(200_000 + i), CONTRACT_REPLY))
            for contract in requested[:5]:
                contracts.amend_contract(uow_factory(), ADMIN, contract.contract_id, _terms(150_000))
            for contract in requested[5:8]:
                contracts.cancel_contract(uow_factory(), ADMIN, contract.contract_id, "client cancelled")
            time.sleep(1.0)
            proxy.restore()
            with engine.connect() as conn:
                published = conn.execute(text(
                    "SELECT event_id, body FROM outbox WHERE routing_key LIKE 'contract.%' ORDER BY seq")).all()
            assert len(published) == 20 + 5 + 3
            expected = {row.event_id for row in published}
            db = sqlite3.connect(tmp_path / "payroll.sqlite3")

            def received() -> set[str]:
                return {r[0] for r in db.execute("SELECT event_id FROM processed_events")}

            wait_until(lambda: received() >= expected, timeout=45, message="every contract event received")
            # the relay re-publishing rows (a crash between publish and mark) must change nothing
            publisher = ConfirmingPublisher(AMQP_URL)
            for row in published[:6]:
                publisher.publish("billing.events", json.loads(row.body)["type"].split(".", 2)[2].rsplit(".", 1)[0],
                                  row.body, row.event_id, None)
            publisher.close()
            wait_until(lambda: subscriber.duplicates >= 6, timeout=15, message="duplicates seen")
            assert received() == expected
            actions = db.execute("SELECT action, count(*) FROM payroll_actions GROUP BY action").fetchall()
            assert dict(actions) == {"created": 20, "amended": 5, "cancelled": 3}
            states = dict(db.execute("SELECT state, count(*) FROM contracts GROUP BY state").fetchall())
            assert states == {"active": 17, "cancelled": 3}
            amended_gross = {r[0] for r in db.execute(
                "SELECT gross_cents FROM contracts WHERE revision = 2").fetchall()}
            assert amended_gross == {150_000}
            row = db.execute("SELECT member_number, language, joint_committee, job_title "
                             "FROM contracts LIMIT 1").fetchone()
            assert row == ("M000777", "fr", "200", "Graphic designer")
            stored = [str(v) for r in db.execute("SELECT * FROM contracts") for v in r]
            assert not [v for v in stored if "Marie" in v or "Dubois" in v]  # no names kept
            assert subscriber.reconnects >= 1
        finally:
            subscriber.stop()
            relay.stop()
            for t in threads:
                t.join(10)
            proxy.close()
            engine.dispose()
            with Connection(AMQP_URL) as conn:
                conn.default_channel.queue_delete(queue)
