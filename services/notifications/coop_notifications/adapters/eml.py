"""The e-mail of an :class:`OutgoingMail`, and the default sender: ``.eml`` files under var/mail/.

:func:`build_message` turns an ``OutgoingMail`` into the RFC 5322 message every sender hands on
(the SMTP relay in ``adapters/smtp.py``, the file sink here):

- ``From`` is the service's (``COOP_MAIL_FROM``); ``To`` the recipient; ``Subject`` rendered;
- ``Message-ID`` is the row's (derived from its delivery key by core): a message resent after a
  crash is the same message, and the same file here;
- ``Content-Language`` is the recipient's language; ``Auto-Submitted: auto-generated`` (RFC 3834)
  keeps vacation responders quiet; ``X-Coop-Delivery`` repeats the delivery key, which bounces
  that quote the original headers give back even when the return path is lost;
- the extra headers of the row (``List-Unsubscribe`` + ``List-Unsubscribe-Post``, RFC 8058, on
  non-legal mail: :func:`unsubscribe_headers` writes them);
- ``multipart/alternative``: the text part (quoted-printable), then the HTML part (base64), both
  UTF-8 and 7-bit clean: no relay needs 8BITMIME.

The envelope sender (SMTP ``MAIL FROM``) is ``mail.return_path``, the VERP address of the
delivery; the ``.eml`` file records it as ``Return-Path`` the way a delivering MTA does.

``EmlSender`` (no relay configured, ``make run``): writes ``<COOP_MAIL_DIR>/<message-id>.eml``
(default ``$COOP_DATA_DIR/mail``, i.e. ``./var/mail``), atomically; the same message written twice
is one file.
"""

from __future__ import annotations

import email.charset
import email.policy
import os
import re
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, parseaddr
from pathlib import Path

from coop_notifications.domain.mail import OutgoingMail, SendOutcome
from coop_platform.files import write_atomically

DEFAULT_FROM = "Coopgov <notifications@localhost>"
# Headers the sender writes itself: a row's extra headers may not replace them.
_OWN_HEADERS = {
    "from", "to", "cc", "bcc", "subject", "date", "message-id", "return-path", "sender",
    "content-language", "content-type", "content-transfer-encoding", "mime-version",
    "auto-submitted", "x-coop-delivery",
}
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # RFC 5322 field name: printable ASCII but ':'
# A bare address the relay takes as is: membership's rule (a dotted domain of LDH labels), and no
# character that would need quoting in the local part. Anything else is rejected (suppressed).
_ADDRESS = re.compile(
    r'^[^@\s<>()\[\],;:"\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?'
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


class _Policy(email.policy.Compat32):
    """compat32 that leaves an ASCII header on one line (up to RFC 5322's 998 characters).

    compat32 folds at whitespace only, so a long Message-ID or List-Unsubscribe would move whole
    to a continuation line, which some parsers then read with a leading space. Encoded
    (non-ASCII) headers still fold into encoded-words of at most 78 columns.
    """

    def _fold(self, name, value, sanitize):
        if isinstance(value, str) and value.isascii() and len(name) + 2 + len(value) <= 998:
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)


_POLICY = _Policy(linesep="\r\n")
_QP = email.charset.Charset("utf-8")
_QP.body_encoding = email.charset.QP
_BASE64 = email.charset.Charset("utf-8")
_BASE64.body_encoding = email.charset.BASE64


def mail_from() -> str:
    return os.environ.get("COOP_MAIL_FROM") or DEFAULT_FROM


def unsubscribe_headers(url: str, mailto: str | None = None) -> dict[str, str]:
    """``List-Unsubscribe`` and ``List-Unsubscribe-Post`` for a one-click HTTPS link (RFC 8058).

    The URL must be HTTPS (RFC 8058 section 3.1) and carry everything needed to identify the
    recipient and list (a signed token): the mail client POSTs ``List-Unsubscribe=One-Click`` to
    it without cookies. A ``mailto:`` alternative may follow.
    """
    if not url.startswith("https://"):
        raise ValueError(f"a one-click unsubscribe link must be https, not {url!r}")
    value = f"<{url}>" + (f", <mailto:{mailto}>" if mailto else "")
    return {"List-Unsubscribe": value, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def message_id_header(message_id: str) -> str:
    value = message_id.strip()
    if not value.startswith("<"):
        value = f"<{value}>"
    if not re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", value):
        raise ValueError(f"not a Message-ID (id-left@id-right): {message_id!r}")
    return value


def build_message(mail: OutgoingMail, from_address: str | None = None) -> Message:
    """The message, ready for ``smtplib.SMTP.send_message`` or ``as_bytes()`` (CRLF lines).

    Built with the ``compat32`` policy and the classic MIME classes: the header-registry policies
    cost about 15 ms a message in header parsing alone, too slow for a General Assembly's
    41,702 convocations at 100 a second; this takes about 4 ms.
    """
    for value in (mail.to_address, mail.return_path, mail.rendered.subject, mail.language,
                  *mail.headers.values()):
        if "\r" in value or "\n" in value:
            raise ValueError(f"line break in a header value of delivery {mail.delivery_key}")
    if not _ADDRESS.match(mail.to_address):
        raise ValueError(f"not an e-mail address: {mail.to_address!r}")
    message = MIMEMultipart("alternative", policy=_POLICY)
    message["From"] = _address_header(from_address or mail_from())
    message["To"] = _address_header(mail.to_address)
    message["Subject"] = _text_header(mail.rendered.subject, "Subject")
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id_header(mail.message_id)
    message["Content-Language"] = mail.language
    message["Auto-Submitted"] = "auto-generated"
    message["X-Coop-Delivery"] = mail.delivery_key
    for name, value in mail.headers.items():
        if not _HEADER_NAME.match(name) or name.lower() in _OWN_HEADERS:
            raise ValueError(f"delivery {mail.delivery_key}: header {name!r} is not allowed")
        message[name] = _text_header(value, name)
    # The text part in quoted-printable (readable as is), the HTML part in base64 (C-fast, and
    # its long inlined-style lines would be mostly escapes in quoted-printable): 7-bit clean.
    text = MIMEText(mail.rendered.text, "plain", _QP, policy=_POLICY)
    html = MIMEText(mail.rendered.html, "html", _BASE64, policy=_POLICY)
    for part in (text, html):
        del part["MIME-Version"]
        message.attach(part)
    return message


def _text_header(value: str, name: str) -> str | Header:
    # A Header object (not its encoded string): the generator folds it knowing the field name.
    return value if value.isascii() else Header(value, "utf-8", header_name=name)


def _address_header(value: str) -> str:
    name, address = parseaddr(value)
    if not name or name.isascii():
        return value if value.isascii() else formataddr((name, address), charset="utf-8")
    return formataddr((name, address), charset="utf-8")


def default_mail_dir() -> Path:
    value = os.environ.get("COOP_MAIL_DIR")
    if value:
        return Path(value)
    data = os.environ.get("COOP_DATA_DIR") or str(Path.cwd() / "var")
    return Path(data) / "mail"


class EmlSender:
    """Writes each message as ``<message-id>.eml``: the default when no relay is configured."""

    def __init__(self, directory: Path | str | None = None, from_address: str | None = None):
        self.directory = Path(directory) if directory is not None else default_mail_dir()
        self.from_address = from_address

    def path_for(self, mail: OutgoingMail) -> Path:
        name = re.sub(r"[^A-Za-z0-9._@+-]", "_", message_id_header(mail.message_id)[1:-1])
        return self.directory / f"{name}.eml"

    def send(self, mail: OutgoingMail) -> SendOutcome:
        try:
            message = build_message(mail, self.from_address)
        except ValueError as exc:
            return SendOutcome("rejected", None, str(exc))
        data = b"Return-Path: <" + mail.return_path.encode() + b">\r\n" + message.as_bytes()
        path = self.path_for(mail)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            write_atomically(path, [data], private=True)
        except OSError as exc:
            return SendOutcome("deferred", None, f"cannot write {path}: {exc}")
        return SendOutcome("submitted", None, str(path))
