"""Across services: membership admits a member, billing bills the annual share on
member.admitted, the payment recorded in billing publishes share.paid, and membership
consumes it: the member is in good standing. Two ways: the four processes as `make run` starts
them on the real RabbitMQ (SQLite files in a temporary data directory), and the Compose stack
(the [compose] variant, tests/e2e/conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import grpc
import pytest

from coop.billing.v1 import billing_pb2 as bpb
from coop.billing.v1 import billing_pb2_grpc as bgrpc
from coop.membership.v1 import membership_pb2 as mpb
from coop.membership.v1 import membership_pb2_grpc as mgrpc
from coop_testkit import (
    AMQP_URL,
    ServiceProcess,
    bearer,
    cooperative_today,
    delete_queues_matching,
    free_port,
    wait_for_health,
    wait_until,
)


@pytest.fixture(scope="module", params=["compose", "local"])
def services(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[dict[str, object]]:
    if request.param == "compose":
        platform = request.getfixturevalue("all_services_compose")
        with request.getfixturevalue("compose_tokens")():
            yield {"ports": {name: int(target.rsplit(":", 1)[1]) for name, target in platform.targets.items()}}
        return
    data_dir = tmp_path_factory.mktemp("share-fee-flow")
    ports = {"membership": free_port(), "billing": free_port()}
    # the two workers' handler queues start empty: no backlog left by earlier tests
    delete_queues_matching("evt-membership-", "--billing.")
    delete_queues_matching("evt-billing-", "--membership.")
    procs: list[ServiceProcess] = []
    for service, port in ports.items():
        env = {"COOP_DATA_DIR": str(data_dir), "COOP_DATABASE_URL": "", "COOP_AMQP_URL": AMQP_URL,
               "COOP_DEV_MODE": "1", "COOP_GRPC_PORT": str(port), "COOP_METRICS_PORT": "0"}
        for role in ("grpc_api", "worker"):
            procs.append(ServiceProcess(f"coop_{service}.entrypoints.{role}", env,
                                        data_dir / f"{service}-{role}.log").start())
    try:
        for port in ports.values():
            wait_for_health(port, timeout=90)
        for proc in procs:
            if proc.module.endswith("worker"):
                wait_until(lambda p=proc: "worker: consuming" in p.log(), timeout=90,
                           message=f"{proc.module} consuming")
        yield {"ports": ports}
    finally:
        for proc in procs:
            proc.stop()


def test_share_fee_billed_by_billing_and_paid_there_puts_the_member_in_good_standing(services):
    ports = services["ports"]
    admin = bearer("e2e-admin", "admin")
    year = cooperative_today().year
    with grpc.insecure_channel(f"127.0.0.1:{ports['membership']}") as mch, \
            grpc.insecure_channel(f"127.0.0.1:{ports['billing']}") as bch:
        membership, billing = mgrpc.MembershipServiceStub(mch), bgrpc.BillingServiceStub(bch)
        member = membership.RegisterMember(mpb.RegisterMemberRequest(admit=True, member=mpb.MemberDraft(
            given_name="Lotte", family_name="Janssens", email=f"lotte-{uuid.uuid4().hex[:6]}@example.be",
            country_of_residence="BE", preferred_language="nl", category=mpb.MEMBER_CATEGORY_USER,
            joined_on="2020-03-01")), metadata=admin, timeout=10)
        assert not member.in_good_standing  # joined long ago, this year's share unpaid

        fees: list[bpb.ShareFee] = []

        def billed() -> bool:
            try:
                reply = billing.ListShareFees(bpb.ListShareFeesRequest(member_id=member.member_id),
                                              metadata=admin, timeout=5)
            except grpc.RpcError:
                return False
            fees[:] = [f for f in reply.fees if f.year == year]
            return bool(fees)

        wait_until(billed, timeout=60, interval=0.2, message="billing billed the share on member.admitted")
        fee = fees[0]
        assert fee.amount_cents == 3000 and fee.member_number == member.member_number

        billing.RecordShareFeePayment(bpb.RecordShareFeePaymentRequest(
            member_id=member.member_id, year=year, amount_cents=fee.amount_cents,
            bank_reference=f"BANK-{uuid.uuid4().hex[:8]}"), metadata=admin, timeout=10)

        def in_good_standing() -> bool:
            got = membership.GetMember(mpb.GetMemberRequest(member_id=member.member_id), metadata=admin, timeout=5)
            return got.in_good_standing

        wait_until(in_good_standing, timeout=60, interval=0.2,
                   message="membership consumed billing's share.paid")
        shares = membership.ListShares(mpb.ListSharesRequest(member_id=member.member_id), metadata=admin, timeout=5)
        paid = [s for s in shares.shares if s.year == year]
        assert len(paid) == 1
        assert paid[0].state == mpb.SHARE_STATE_PAID
        assert paid[0].payment_reference == fee.number  # billing's fee number is the payment reference
