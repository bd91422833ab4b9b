"""The broker's users and topology in the deployments (hardening point 5): Compose and the k8s
dev overlay make RabbitMQ load `coop broker definitions` at every start, each service
connects as its own user, and the document they load is the one `coop broker setup` imports
(tests/reliability/test_broker_permissions.py runs it against the real broker)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from coop_cli.events import main as coop_events
from coop_platform import broker
from coop_platform.registry import services as installed_services

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "deploy" / "rabbitmq" / "conf.d" / "20-coop-definitions.conf"


def _conf_path() -> str:
    (line,) = [line for line in CONF.read_text().splitlines() if line.startswith("definitions.local.path")]
    return line.split("=", 1)[1].strip()


def test_compose_rabbitmq_loads_the_definitions_broker_setup_writes_before_it_starts():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    setup, rabbitmq = services["broker-setup"], services["rabbitmq"]
    assert rabbitmq["depends_on"]["broker-setup"]["condition"] == "service_completed_successfully"
    assert set(setup["profiles"]) == set(rabbitmq["profiles"])
    output = setup["command"][setup["command"].index("--output") + 1]
    (written,) = [v.split(":")[0] for v in setup["volumes"] if v.split(":")[1] == str(Path(output).parent)]
    (read,) = [v for v in rabbitmq["volumes"] if v.startswith(f"{written}:")]
    assert str(Path(read.split(":")[1]) / Path(output).name) == _conf_path()
    assert any(v.startswith("./deploy/rabbitmq/conf.d/20-coop-definitions.conf:/etc/rabbitmq/conf.d/")
               for v in rabbitmq["volumes"])
    for service in broker.DEFAULT_SERVICES:  # passwords from the env file, never written here
        assert setup["environment"][broker.password_variable(service)].startswith("${")
    assert setup["environment"]["RABBITMQ_ADMIN_PASSWORD"].startswith("${")


def test_every_installed_service_has_a_broker_user_in_compose():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert set(broker.SUBSCRIPTIONS) == set(installed_services())
    assert services["broker-setup"]["environment"]["COOP_BROKER_SERVICES"].split() == list(broker.DEFAULT_SERVICES)


def test_the_board_user_writes_only_board_events_and_reads_elections_and_membership_events():
    import re

    rights = broker.service_permissions("board", broker.SUBSCRIPTIONS["board"])
    for allowed in ("board.events", "board.retry", "board.dlx"):
        assert re.fullmatch(rights.write, allowed), allowed
    for refused in ("elections.events", "membership.events", "billing.events", "notifications.events"):
        assert not re.fullmatch(rights.write, refused) and not re.fullmatch(rights.configure, refused), refused
    assert re.fullmatch(rights.read, "elections.events") and re.fullmatch(rights.read, "membership.events")
    assert not re.fullmatch(rights.read, "billing.events")


def test_compose_partner_file_sets_up_the_elections_user_only():
    services = yaml.safe_load((ROOT / "docker-compose.partner-elections.yml").read_text())["services"]
    setup = services["broker-setup"]
    assert setup["environment"]["COOP_BROKER_SERVICES"] == "elections"
    others = tuple(s.upper() for s in installed_services() if s != "elections")
    assert not [k for k in setup["environment"] if k.startswith(others)]
    assert services["rabbitmq"]["depends_on"]["broker-setup"]["condition"] == "service_completed_successfully"


@pytest.fixture(scope="module")
def dev_overlay() -> list[dict]:
    """kubectl (from scripts/ensure_tools.sh, as for the other deploy checks) renders it."""
    rendered = subprocess.run(["kubectl", "kustomize", str(ROOT / "deploy/k8s/overlays/dev")],
                              capture_output=True, text=True, timeout=120)
    if rendered.returncode != 0:
        pytest.fail(rendered.stderr)
    return [d for d in yaml.safe_load_all(rendered.stdout) if d]


def _dev_secrets() -> dict[str, dict[str, str]]:
    """The Secrets deploy/k8s/overlays/dev/dev-secrets.sh makes for the dev overlay."""
    made = subprocess.run(["bash", str(ROOT / "deploy/k8s/overlays/dev/dev-secrets.sh")], capture_output=True,
                          text=True, timeout=60, check=True).stdout
    return {d["metadata"]["name"]: d["stringData"] for d in yaml.safe_load_all(made) if d}


def test_k8s_dev_rabbitmq_loads_definitions_an_init_container_makes_from_the_secrets(dev_overlay):
    (rabbitmq,) = [d for d in dev_overlay if d["kind"] == "StatefulSet" and d["metadata"]["name"] == "rabbitmq"]
    pod = rabbitmq["spec"]["template"]["spec"]
    (init,) = [c for c in pod["initContainers"] if c["name"] == "broker-definitions"]
    assert init["command"][:3] == ["coop", "broker", "definitions"]
    assert init["securityContext"]["runAsNonRoot"] and init["securityContext"]["readOnlyRootFilesystem"]
    assert {ref["secretRef"]["name"] for ref in init["envFrom"]} == {"rabbitmq-admin", "coop-broker-passwords"}
    output = init["command"][init["command"].index("--output") + 1]
    (written,) = [m for m in init["volumeMounts"] if m["mountPath"] == str(Path(output).parent)]
    (container,) = [c for c in pod["containers"] if c["name"] == "rabbitmq"]
    (read,) = [m for m in container["volumeMounts"] if m["name"] == written["name"]]
    assert str(Path(read["mountPath"]) / Path(output).name) == _conf_path()
    assert any(m["mountPath"].startswith("/etc/rabbitmq/conf.d/") for m in container["volumeMounts"])


def _password_matches(user: dict, password: str) -> bool:
    import base64
    import hashlib

    raw = base64.b64decode(user["password_hash"])
    return raw[4:] == hashlib.sha256(raw[:4] + password.encode()).digest()


def test_k8s_dev_broker_accepts_every_service_url_of_the_dev_secrets(monkeypatch, tmp_path):
    """The init container's environment (Secrets rabbitmq-admin and coop-broker-passwords) makes
    definitions whose users are exactly the users and passwords of the services' COOP_AMQP_URL."""
    from urllib.parse import urlparse

    secrets = _dev_secrets()
    for name in ("rabbitmq-admin", "coop-broker-passwords"):
        for key, value in secrets[name].items():
            monkeypatch.setenv(key, value)
    for key in ("RABBITMQ_ADMIN_USER", "RABBITMQ_ADMIN_PASSWORD", "COOP_BROKER_SERVICES", "COOP_DEV_MODE"):
        monkeypatch.delenv(key, raising=False)
    out = tmp_path / "definitions.json"
    assert coop_events(["broker", "definitions", "--output", str(out)]) == 0
    users = {u["name"]: u for u in json.loads(out.read_text())["users"]}
    admin = secrets["rabbitmq-admin"]
    assert "administrator" in users[admin["RABBITMQ_DEFAULT_USER"]]["tags"]
    assert _password_matches(users[admin["RABBITMQ_DEFAULT_USER"]], admin["RABBITMQ_DEFAULT_PASS"])
    for service in broker.DEFAULT_SERVICES:
        url = urlparse(secrets[f"coop-{service}-secrets"]["COOP_AMQP_URL"])
        assert url.username == service and _password_matches(users[service], url.password)


def test_definitions_hold_password_hashes_only(monkeypatch, tmp_path, capsys):
    for service in broker.DEFAULT_SERVICES:
        monkeypatch.setenv(broker.password_variable(service), f"secret-of-{service}")
    monkeypatch.setenv("RABBITMQ_ADMIN_USER", "coop-admin")
    monkeypatch.setenv("RABBITMQ_ADMIN_PASSWORD", "secret-of-admin")
    out = tmp_path / "definitions.json"
    assert coop_events(["broker", "definitions", "--output", str(out)]) == 0
    text = out.read_text()
    assert "secret-of-" not in text
    document = json.loads(text)
    assert [u["name"] for u in document["users"]] == ["coop-admin", *broker.DEFAULT_SERVICES]
    assert all(u["hashing_algorithm"] == "rabbit_password_hashing_sha256" for u in document["users"])


def test_definitions_refuse_to_invent_a_password_outside_development_mode(monkeypatch):
    monkeypatch.delenv("COOP_DEV_MODE", raising=False)
    monkeypatch.delenv("MEMBERSHIP_AMQP_PASSWORD", raising=False)
    with pytest.raises(SystemExit, match="MEMBERSHIP_AMQP_PASSWORD is not set"):
        coop_events(["broker", "definitions", "membership"])
