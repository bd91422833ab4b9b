"""The postal list: legal notices no e-mail carried, for the secretariat (admins) to post; over
gRPC by pages and as CSV from `coop notifications postal-list`."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys

import grpc
import pytest
from notif_helpers import ADMIN, OTHER_ADMIN, OTHER_ROLES, member, seed_member

from coop.notifications.v1 import notifications_pb2 as pb
from coop.notifications.v1 import notifications_pb2_grpc as pb_grpc
from coop_notifications.domain.catalog import NOTIFICATIONS
from coop_notifications.service_layer.notify import notify
from coop_testkit import bearer


def _convene(env, members: list[str], event_id: str) -> None:
    with env.uow_factory() as uow:
        notify(uow, NOTIFICATIONS["assembly_convocation"], tenant="coop", event_id=event_id, members=members,
               context={"assembly_id": "ga"}, now=env.clock())
        uow.commit()


def _all(env, metadata, page_size: int = 0) -> list:
    stub, token, found = env.stub(pb_grpc.DeliveryServiceStub), "", []
    while True:
        page = stub.ListPostalFallback(pb.ListPostalFallbackRequest(page_size=page_size, page_token=token),
                                       metadata=metadata, timeout=10)
        found += list(page.notices)
        token = page.next_page_token
        if not token:
            return found


def test_members_without_an_address_are_on_the_postal_list_page_by_page(env) -> None:
    without = [seed_member(env, email=False) for _ in range(3)]
    with_mail = seed_member(env)
    _convene(env, [*without, with_mail], f"ga-{without[0]}")
    listed = [n for n in _all(env, ADMIN, page_size=2) if n.event_id == f"ga-{without[0]}"]
    assert sorted(n.member_id for n in listed) == sorted(without)
    assert {(n.notification, n.reason, n.member_number) for n in listed} == {
        ("assembly_convocation", "no e-mail address", "M1")}


def test_only_an_admin_of_the_cooperative_reads_it(env) -> None:
    mid = seed_member(env, email=False)
    _convene(env, [mid], f"ga-{mid}")
    for metadata in [member(mid), *(bearer("x-1", role) for role in OTHER_ROLES)]:
        with pytest.raises(grpc.RpcError) as refused:
            _all(env, metadata)
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert all(n.member_id != mid for n in _all(env, OTHER_ADMIN))  # another cooperative's list


def test_the_cli_writes_the_postal_list_as_csv(env) -> None:
    mid = seed_member(env, email=False)
    _convene(env, [mid], f"ga-cli-{mid}")
    target = env.channel._channel.target().decode()
    run = subprocess.run([sys.executable, "-m", "coop_cli.main", "notifications", "postal-list", "--target", target],
                         capture_output=True, text=True, timeout=120, env={**os.environ, "COOP_TOKEN": ""})
    assert run.returncode == 0, run.stderr
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    assert {"member_id": mid, "event_id": f"ga-cli-{mid}", "reason": "no e-mail address"}.items() <= next(
        r for r in rows if r["member_id"] == mid).items()
