"""Clients: a member's client is theirs and unverified until the back office verifies it; an
unverified record never locks the real company out; members never read other members' clients."""

from __future__ import annotations

import random

import grpc

from coop.billing.v1 import billing_pb2 as pb


def _be_vat() -> str:
    """A valid Belgian VAT number nobody else in the session uses."""
    head = f"0{random.randrange(2_000_000, 9_999_999):07d}"
    return f"BE{head}{97 - int(head) % 97:02d}"


def _create(svc, who, vat: str, name: str = "Studio Nord", address: str = "Rue 1, 1000 Bruxelles"):
    return svc.stub.CreateClient(pb.CreateClientRequest(name=name, country="BE", address=address, vat_number=vat),
                                 metadata=who)


def test_an_unverified_clients_vat_number_does_not_lock_out_the_real_company(svc, h):
    alice, bob, carol = h.admit(svc), h.admit(svc), h.admit(svc)
    vat = _be_vat()
    fake = _create(svc, alice.md, vat, name="Big Company (not really)", address="My kitchen")
    assert (fake.client.verified, fake.client.owner_member_id, fake.already_existed) == (False, alice.member_id, False)
    again = _create(svc, alice.md, vat)
    assert again.already_existed and again.client.client_id == fake.client.client_id  # her own, deduplicated
    bobs = _create(svc, bob.md, vat)
    assert not bobs.already_existed and bobs.client.client_id != fake.client.client_id  # never Alice's record
    real = _create(svc, h.ADMIN, vat, name="Big Company SA", address="Avenue Louise 1, 1050 Bruxelles")
    assert not real.already_existed and real.client.client_id not in (fake.client.client_id, bobs.client.client_id)
    assert real.client.verified and real.client.owner_member_id == ""
    carols = _create(svc, carol.md, vat)
    assert carols.already_existed and carols.client == real.client  # the verified record, to anyone
    assert _create(svc, h.TELLER, vat).client == real.client


def test_members_read_and_invoice_only_their_own_clients_and_the_verified_ones(svc, h):
    alice, bob = h.admit(svc), h.admit(svc)
    mine = _create(svc, alice.md, _be_vat()).client
    private = svc.stub.CreateClient(pb.CreateClientRequest(name="Jan Peeters", country="BE", address="Thuis 1"),
                                    metadata=alice.md).client
    verified = _create(svc, h.ADMIN, _be_vat()).client
    for client_id in (mine.client_id, private.client_id):
        assert svc.stub.GetClient(pb.GetClientRequest(client_id=client_id), metadata=alice.md).client_id == client_id
        assert h.code_of(svc.stub.GetClient, pb.GetClientRequest(client_id=client_id), metadata=bob.md
                         ).code() == grpc.StatusCode.PERMISSION_DENIED
        assert svc.stub.GetClient(pb.GetClientRequest(client_id=client_id), metadata=h.ADMIN).client_id == client_id
    assert svc.stub.GetClient(pb.GetClientRequest(client_id=verified.client_id), metadata=bob.md) == verified
    act = h.activity(svc, bob)
    before = svc.counts()
    for issue in (False, True):
        err = h.code_of(svc.stub.CreateInvoice, pb.CreateInvoiceRequest(
            member_id=bob.member_id, activity_id=act.activity_id, client_id=mine.client_id, lines=[h.line()],
            issue=issue), metadata=bob.md)
        assert err.code() == grpc.StatusCode.PERMISSION_DENIED and "another member's" in err.details()
    assert svc.counts() == before
    assert h.issued_invoice(svc, bob, act, verified).number


def test_the_back_office_verifies_a_members_client_which_then_is_the_record_of_its_vat_number(svc, h):
    alice, bob = h.admit(svc), h.admit(svc)
    vat = _be_vat()
    claimed = _create(svc, alice.md, vat).client
    assert h.code_of(svc.stub.VerifyClient, pb.VerifyClientRequest(client_id=claimed.client_id),
                     metadata=alice.md).code() == grpc.StatusCode.PERMISSION_DENIED
    verified = svc.stub.VerifyClient(pb.VerifyClientRequest(client_id=claimed.client_id), metadata=h.TELLER)
    assert (verified.client_id, verified.verified, verified.vat_number) == (claimed.client_id, True, vat)
    assert svc.stub.VerifyClient(pb.VerifyClientRequest(client_id=claimed.client_id), metadata=h.ADMIN) == verified
    got = _create(svc, bob.md, vat)
    assert got.already_existed and got.client == verified  # Bob invoices the verified record
    # a second record of a VAT number that already has a verified one cannot be verified too
    other_vat = _be_vat()
    late = _create(svc, bob.md, other_vat).client
    holder = _create(svc, h.ADMIN, other_vat).client
    before = svc.counts()
    err = h.code_of(svc.stub.VerifyClient, pb.VerifyClientRequest(client_id=late.client_id), metadata=h.ADMIN)
    assert err.code() == grpc.StatusCode.ALREADY_EXISTS and holder.client_id in err.details()
    assert svc.counts() == before
    assert not svc.stub.GetClient(pb.GetClientRequest(client_id=late.client_id), metadata=bob.md).verified
