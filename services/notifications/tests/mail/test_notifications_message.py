"""The e-mail built from an OutgoingMail, the .eml sink, and VERP return paths."""

from __future__ import annotations

import email
import email.policy
import os
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from notif_mail_samples import outgoing

from coop_notifications.adapters.bounces import parse_verp, verp_address
from coop_notifications.adapters.eml import EmlSender, build_message, unsubscribe_headers


def _parse(data: bytes):
    return email.message_from_bytes(data, policy=email.policy.default)


def test_the_message_carries_the_rows_identity_language_and_sender():
    mail = outgoing("election_invitation", "nl")
    message = _parse(build_message(mail, "Coop Zuid <notifications@coop.test>").as_bytes())
    assert message["Message-ID"] == mail.message_id
    assert message["To"] == "ana@coop.test"
    assert message["From"] == "Coop Zuid <notifications@coop.test>"
    assert message["Subject"] == mail.rendered.subject
    assert message["Content-Language"] == "nl"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Coop-Delivery"] == mail.delivery_key
    assert message["Date"]


def test_the_same_row_builds_the_same_message_id_after_a_crash():
    first, again = outgoing(), outgoing()
    assert build_message(first)["Message-ID"] == build_message(again)["Message-ID"]


def test_the_body_is_text_then_html_alternatives_in_utf8():
    mail = outgoing("member_welcome", "fr")
    message = _parse(build_message(mail).as_bytes())
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    assert parts[0].get_content().replace("\r\n", "\n") == mail.rendered.text
    assert "Bienvenue chez Coop Zuid" in parts[1].get_content()
    assert build_message(mail).as_bytes().isascii()  # 8-bit text travels encoded


def test_non_legal_mail_has_one_click_unsubscribe_headers():
    message = build_message(outgoing("election_reminder", "en"))
    assert message["List-Unsubscribe"] == "<https://portal.coop.test/unsubscribe?t=abc.def>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_legal_notice_has_no_unsubscribe_headers():
    message = build_message(outgoing("assembly_convocation", "fr"))
    assert message["List-Unsubscribe"] is None and message["List-Unsubscribe-Post"] is None


def test_one_click_unsubscribe_needs_an_https_link():
    with pytest.raises(ValueError, match="https"):
        unsubscribe_headers("http://portal.coop.test/u")
    assert unsubscribe_headers("https://p.test/u", mailto="u@coop.test")["List-Unsubscribe"] == (
        "<https://p.test/u>, <mailto:u@coop.test>")


def test_a_header_value_with_a_line_break_is_refused():
    mail = outgoing()
    with pytest.raises(ValueError, match="line break"):
        build_message(replace(mail, headers={"List-Unsubscribe": "<https://x>\r\nBcc: a@b.c"}))
    with pytest.raises(ValueError, match="line break"):
        build_message(replace(mail, to_address="ana@coop.test\nBcc: eve@evil.test"))


def test_a_rows_header_cannot_replace_the_senders_own():
    with pytest.raises(ValueError, match="not allowed"):
        build_message(replace(outgoing(), headers={"Message-ID": "<other@x>"}))


@pytest.mark.parametrize("address", [
    "ana", "ana@", "@coop.test", "ana@localhost", "ana @coop.test", "ana@coop..test",
    "Ana <ana@coop.test>", "ana@coop.test, eve@evil.test", "ana@-coop.test", "a\"b@coop.test",
])
def test_an_invalid_address_is_refused(address):
    with pytest.raises(ValueError, match="not an e-mail address"):
        build_message(replace(outgoing(), to_address=address))


def test_the_eml_sink_writes_one_file_per_message_with_the_verp_return_path(tmp_path):
    sender = EmlSender(tmp_path / "mail", "Coop <notifications@coop.test>")
    mail = outgoing("election_invitation", "fr")
    outcome = sender.send(mail)
    assert outcome.kind == "submitted"
    files = list((tmp_path / "mail").glob("*.eml"))
    assert [str(f) for f in files] == [outcome.detail]
    message = _parse(files[0].read_bytes())
    assert message["Return-Path"] == f"<{mail.return_path}>"
    assert parse_verp(message["Return-Path"]) == mail.delivery_key
    assert message["Message-ID"] == mail.message_id
    assert message.get_body(("plain",)).get_content().replace("\r\n", "\n") == mail.rendered.text


def test_the_same_message_written_twice_is_one_file(tmp_path):
    sender = EmlSender(tmp_path)
    sender.send(outgoing())
    sender.send(outgoing())
    assert len(list(tmp_path.glob("*.eml"))) == 1
    assert not list(tmp_path.glob(".tmp-*"))


def test_the_eml_sink_defaults_to_var_mail_under_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("COOP_MAIL_DIR", raising=False)
    monkeypatch.setenv("COOP_DATA_DIR", str(tmp_path / "var"))
    outcome = EmlSender().send(outgoing())
    assert outcome.detail.startswith(str(tmp_path / "var" / "mail") + os.sep)


def test_an_unwritable_mail_dir_defers(tmp_path):
    (tmp_path / "blocked").write_text("a file, not a directory")
    outcome = EmlSender(tmp_path / "blocked" / "mail").send(outgoing())
    assert outcome.kind == "deferred" and "cannot write" in outcome.detail


def test_a_message_that_cannot_be_built_is_rejected_by_the_sink(tmp_path):
    outcome = EmlSender(tmp_path).send(replace(outgoing(), to_address="no-domain"))
    assert outcome.kind == "rejected"


@given(st.text(min_size=1, max_size=120))
def test_a_verp_address_gives_back_its_delivery_key(key):
    address = verp_address(key, "Coop.Test")
    local = address.partition("@")[0]
    assert local.replace("+", "").isalnum() and local.islower()
    assert parse_verp(address) == key
    assert parse_verp(address.upper(), domain="coop.test") == key  # MTAs may change case
    assert parse_verp(f"Mail Delivery <{address}>") == key


def test_a_hex_delivery_key_makes_a_short_return_path():
    key = "9d8b7c0e6a514f7e9a0e13c0b5e0a113"  # core's keys: uuid5 hex
    address = verp_address(key, "coop.test")
    assert len(address.partition("@")[0]) <= 40  # RFC 5321: a local part is at most 64
    assert parse_verp(address) == key


@given(st.binary(min_size=1, max_size=40))
def test_any_hex_key_round_trips(data):
    assert parse_verp(verp_address(data.hex(), "coop.test")) == data.hex()


def test_addresses_that_are_not_our_return_paths_decode_to_nothing():
    address = verp_address("evt-1:member-42:email", "coop.test")
    assert parse_verp(address, domain="other.test") is None
    assert parse_verp("bounces@coop.test") is None
    assert parse_verp("someone+abc@coop.test") is None
    assert parse_verp("bounces+not-base32!@coop.test") is None
    assert parse_verp("not an address") is None


def test_long_non_ascii_subjects_and_sender_names_survive_the_trip():
    title = "Élection du conseil d'administration de la coopérative — mandat 2027-2030 " * 2
    mail = outgoing("election_invitation", "fr", title=title.strip())
    raw = build_message(mail, "Coopérative Zuid <notifications@coop.test>").as_bytes()
    assert raw.isascii() and all(len(line) <= 998 for line in raw.split(b"\r\n"))
    message = _parse(raw)
    assert message["Subject"] == mail.rendered.subject
    assert message["From"].addresses[0].display_name == "Coopérative Zuid"
    assert message["From"].addresses[0].addr_spec == "notifications@coop.test"


def test_a_long_message_id_and_unsubscribe_link_stay_whole():
    mail = outgoing(key="evt-" + "k" * 80 + ":member-42:email",
                    unsubscribe_url="https://portal.coop.test/unsubscribe?t=" + "x" * 120)
    message = _parse(build_message(mail).as_bytes())
    assert message["Message-ID"] == mail.message_id
    assert message["List-Unsubscribe"] == mail.headers["List-Unsubscribe"]
