"""TLS on the client side: the healthcheck and every admin CLI reach an api that serves TLS,
verifying its certificate against COOP_TLS_CA (or --ca) under the name COOP_TLS_SERVER_NAME.

The api is a real grpcio server of each service on a SQLite file, with a throw-away CA and a
server certificate made here with `cryptography`. The certificate names only the service
("<service>-api"), never 127.0.0.1, as in a cluster: reaching it by address proves the server
name setting is used, and a wrong CA or a plaintext client is refused.
"""

from __future__ import annotations

import contextlib
import datetime
import importlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from coop_cli import main as cli_main
from coop_platform import healthcheck
from coop_platform.channels import ClientTLS
from coop_platform.config import load_settings
from coop_platform.grpc_server import start_server
from coop_platform.migrations import upgrade


@dataclass(frozen=True)
class Authority:
    """A throw-away CA and one server certificate it signed, as PEM files."""

    ca: Path
    cert: Path
    key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_authority(folder: Path, server_name: str) -> Authority:
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder().subject_name(_name("coopgov test CA")).issuer_name(_name("coopgov test CA"))
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder().subject_name(_name(server_name)).issuer_name(ca_cert.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(server_name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    authority = Authority(folder / "ca.crt", folder / "tls.crt", folder / "tls.key")
    authority.ca.write_bytes(ca_cert.public_bytes(pem))
    authority.cert.write_bytes(cert.public_bytes(pem))
    authority.key.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()))
    return authority


@contextlib.contextmanager
def tls_api(service: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, Authority]]:
    """The service's api serving TLS on a free port, with a certificate for "<service>-api"."""
    url = f"sqlite:///{folder / (service + '.db')}"
    monkeypatch.setenv("COOP_DATABASE_URL", url)
    upgrade(service, url)
    authority = make_authority(folder / "pki", f"{service}-api")
    settings = replace(load_settings(service), tls_cert=str(authority.cert), tls_key=str(authority.key))
    engine, register, _ = importlib.import_module(f"coop_{service}.entrypoints.grpc_api").build(settings)
    running = start_server(settings, register, engine, port=0)
    try:
        yield running.port, authority
    finally:
        running.stop(0)
        engine.dispose()


@pytest.fixture()
def membership_tls(tmp_path, monkeypatch) -> Iterator[tuple[int, Authority]]:
    for name in ("COOP_TLS_CA", "COOP_TLS_SERVER_NAME", "COOP_GRPC_PORT"):
        monkeypatch.delenv(name, raising=False)
    with tls_api("membership", tmp_path, monkeypatch) as served:
        yield served


def test_healthcheck_speaks_tls_with_its_ca_and_server_name_flags(membership_tls, capsys):
    port, authority = membership_tls
    status = healthcheck.main(["--port", str(port), "--ca", str(authority.ca), "--server-name", "membership-api"])
    assert (status, capsys.readouterr().out.strip()) == (0, "SERVING")


def test_healthcheck_takes_port_and_tls_from_the_api_container_environment(membership_tls, monkeypatch, capsys):
    port, authority = membership_tls
    monkeypatch.setenv("COOP_GRPC_PORT", str(port))
    monkeypatch.setenv("COOP_TLS_CA", str(authority.ca))
    monkeypatch.setenv("COOP_TLS_SERVER_NAME", "membership-api")
    assert healthcheck.main([]) == 0
    assert capsys.readouterr().out.strip() == "SERVING"


def test_healthcheck_is_not_serving_for_another_ca_a_wrong_name_or_plaintext(membership_tls, tmp_path, capsys):
    port, authority = membership_tls
    stranger = make_authority(tmp_path / "stranger", "membership-api")
    target = ["--port", str(port)]
    assert healthcheck.main([*target, "--ca", str(stranger.ca), "--server-name", "membership-api"]) == 1
    assert healthcheck.main([*target, "--ca", str(authority.ca), "--server-name", "billing-api"]) == 1
    assert healthcheck.main(target) == 1
    assert healthcheck.check(f"127.0.0.1:{port}") is False
    assert healthcheck.check(f"127.0.0.1:{port}", tls=ClientTLS(True, str(authority.ca), "membership-api"))
    assert capsys.readouterr().out.split() == ["NOT_SERVING"] * 3


def test_healthcheck_says_which_ca_bundle_it_cannot_read(membership_tls, tmp_path, capsys):
    port, _ = membership_tls
    assert healthcheck.main(["--port", str(port), "--ca", str(tmp_path / "missing.pem")]) == 2
    assert f"cannot read the CA bundle {tmp_path / 'missing.pem'}" in capsys.readouterr().err


def _elections_roll(tmp_path: Path) -> list[str]:
    roll = tmp_path / "roll.csv"
    roll.write_text("voter_id,weight\nV1,1\n")
    return [str(roll), "--election", "00000000-0000-0000-0000-000000000000", "--quiet"]


#: service -> (the command line's main, its arguments, the outcome that proves the call got through)
CLI_CALLS = {
    "membership": ("coop_cli.main", lambda tmp, port: ["members", "--target", f"127.0.0.1:{port}", "list"],
                   lambda status, out, err: status == 0 and not err),
    "billing": ("coop_cli.main",
                lambda tmp, port: ["statements", "--target", f"127.0.0.1:{port}", "--year", "2026",
                                   "--out", str(tmp / "statements"), "--quiet"],
                lambda status, out, err: status == 0 and "0 statements for 2026" in out),
    # no such election: the api's own refusal proves the TLS call reached it
    "elections": ("coop_cli.main",
                  lambda tmp, port: ["roll", "import", "--target", f"127.0.0.1:{port}", *_elections_roll(tmp)],
                  lambda status, out, err: status == 1 and re.search(r"error: (NOT_FOUND|INVALID_ARGUMENT)", err)),
}


@pytest.mark.parametrize("service", sorted(CLI_CALLS))
def test_every_admin_cli_reaches_its_api_over_tls_with_coop_tls_ca(service, tmp_path, monkeypatch, capsys):
    module, arguments, got_through = CLI_CALLS[service]
    with tls_api(service, tmp_path, monkeypatch) as (port, authority):
        monkeypatch.setenv("COOP_TLS_CA", str(authority.ca))
        monkeypatch.setenv("COOP_TLS_SERVER_NAME", f"{service}-api")
        status = importlib.import_module(module).main(arguments(tmp_path, port))
        out, err = capsys.readouterr()
        assert got_through(status, out, err), (status, out, err)


def test_a_cli_names_the_unreadable_ca_bundle_instead_of_a_traceback(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COOP_TLS_CA", str(tmp_path / "nowhere.pem"))
    assert cli_main.main(["members", "--target", "127.0.0.1:1", "list"]) == 2
    assert f"error: cannot read the CA bundle {tmp_path / 'nowhere.pem'}" in capsys.readouterr().err
