"""Deployment hardening, checked offline on the files an operator runs (docs/deploy.md):

- no default password anywhere: Compose takes every credential from the operator's env file
  and refuses to start without one; the Kubernetes overlays refer to Secrets the operator
  creates (the dev overlay to throw-away ones its script draws) and commit no value;
- Compose publishes gRPC on the loopback only and metrics nowhere, drops every capability,
  forbids privilege gain, limits resources, and Prometheus has no lifecycle API;
- no COOP_JWT_SECRET left (asymmetric keys and a trust file instead);
- api liveness never depends on the database;
- NetworkPolicies isolate every workload and allow only the flows the services need;
- the PostgreSQL init script creates each role with the password it is given, and none without.

Compose itself is not installed here, so `interpolate` below applies Compose's documented
interpolation rules (${VAR}, :-, -, :?, ?, :+, +) to the parsed files.
"""

from __future__ import annotations

import ipaddress
import os
import re
import subprocess
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from coop_platform.registry import services as installed_services

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE_FILES = ("docker-compose.yml", "docker-compose.partner-elections.yml")
ENV_EXAMPLE = DEPLOY / "compose.env.example"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
DEV_SECRETS = K8S / "overlays" / "dev" / "dev-secrets.sh"
INIT_SCRIPT = DEPLOY / "postgres" / "init" / "01-create-service-databases.sh"
SERVICES = tuple(installed_services())  # every installed service is deployed
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")
#: what the partner file needs from the env file (the rest is "full platform only")
PARTNER_REQUIRED = {"POSTGRES_PASSWORD", "ELECTIONS_DB_PASSWORD", "RABBITMQ_ADMIN_PASSWORD",
                    "ELECTIONS_AMQP_PASSWORD", "COOP_AUTH_DIR"}
CREDENTIAL_NAME = re.compile(r"PASSWORD|_PASS$|SECRET|TOKEN", re.I)


# ------------------------------------------------------------ compose interpolation

_REFERENCE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}")


class MissingValue(Exception):
    """What Compose prints, and refuses to start with, for a required variable."""


def _substitute(text: str, env: Mapping[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"] or ""
        value = env.get(name)
        present, non_empty = value is not None, bool(value)
        if op is None:
            return value or ""
        if op in (":-", "-"):
            return value if (non_empty if op == ":-" else present) else arg  # type: ignore[return-value]
        if op in (":?", "?"):
            if non_empty if op == ":?" else present:
                return value  # type: ignore[return-value]
            raise MissingValue(f"required variable {name} is missing a value: {arg}")
        return arg if (non_empty if op == ":+" else present) else ""

    return _REFERENCE.sub(one, text)


def interpolate(node: Any, env: Mapping[str, str]) -> Any:
    """A parsed Compose file with every value interpolated, as Compose does before it starts."""
    if isinstance(node, dict):
        return {key: interpolate(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate(value, env) for value in node]
    return _substitute(node, env) if isinstance(node, str) else node


def _references(node: Any) -> list[re.Match[str]]:
    if isinstance(node, dict):
        return [m for value in node.values() for m in _references(value)]
    if isinstance(node, list):
        return [m for value in node for m in _references(value)]
    return list(_REFERENCE.finditer(node)) if isinstance(node, str) else []


def _required(model: dict) -> set[str]:
    return {m["name"] for m in _references(model) if m["op"] in (":?", "?")}


def _example_keys() -> list[str]:
    return re.findall(r"^([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), re.M)


def _filled(keys: set[str] | list[str]) -> dict[str, str]:
    """The env file an operator writes: every value given."""
    return {key: f"./secrets/{key.lower()}" if key.endswith("_DIR") else uuid.uuid4().hex for key in keys}


@pytest.fixture(scope="module")
def models() -> dict[str, dict]:
    return {name: yaml.safe_load((ROOT / name).read_text()) for name in COMPOSE_FILES}


def test_the_interpolation_follows_compose_rules():
    env = {"SET": "v", "EMPTY": ""}
    assert _substitute("${SET}-${UNSET}-${EMPTY:-d}-${EMPTY-d}-${UNSET-d}", env) == "v--d--d"
    assert _substitute("${SET:+yes}|${EMPTY:+yes}|${EMPTY+yes}|${UNSET+yes}", env) == "yes||yes|"
    assert _substitute("${EMPTY?ok}", env) == ""
    for text in ("${EMPTY:?needed}", "${UNSET?needed}"):
        with pytest.raises(MissingValue, match="needed"):
            _substitute(text, env)


# --------------------------------------------------------------------- secrets


def test_compose_refuses_to_start_while_any_credential_of_the_env_file_is_missing(models):
    keys = _example_keys()
    assert len(keys) == len(set(keys)), "a key twice in deploy/compose.env.example"
    required = {name: _required(model) for name, model in models.items()}
    assert required["docker-compose.yml"] == set(keys), "the example lists exactly what Compose requires"
    assert required["docker-compose.partner-elections.yml"] == PARTNER_REQUIRED
    for name, model in models.items():
        with pytest.raises(MissingValue):  # the example as checked in: every value empty
            interpolate(model, dict.fromkeys(keys, ""))
        for missing in required[name]:
            with pytest.raises(MissingValue, match=missing):
                interpolate(model, _filled(required[name] - {missing}))
        interpolate(model, _filled(required[name]))


def _credentials(node: Any, where: str = "") -> list[tuple[str, str]]:
    """(where, value) of every credential a Compose file hands a container: values of
    password-like keys and the passwords inside connection URLs."""
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            path = f"{where}.{key}" if where else str(key)
            if isinstance(value, str) and CREDENTIAL_NAME.search(str(key)):
                found.append((path, value))
            found += _credentials(value, path)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _credentials(value, f"{where}[{i}]")
    elif isinstance(node, str):
        found += [(where, m["password"]) for m in re.finditer(r"://[^:/@\s]+:(?P<password>[^@\s]+)@", node)]
    return found


def test_compose_has_no_default_password_anywhere(models):
    for name, model in models.items():
        credentials = _credentials(model["services"]) + _credentials(
            {k: v for k, v in model.items() if k.startswith("x-")})
        assert credentials, name
        for where, value in credentials:
            match = _REFERENCE.fullmatch(value)
            assert match and match["op"] == ":?", f"{name}: {where} must come from the env file, not {value!r}"
        defaults = [m[0] for m in _references(model) if m["op"] in (":-", "-") and CREDENTIAL_NAME.search(m["name"])]
        assert not defaults, f"{name}: credentials with a default: {defaults}"
    example = ENV_EXAMPLE.read_text()
    filled = [line for line in example.splitlines() if re.match(r"^[A-Z_]*(PASSWORD|_DIR)=.", line)]
    assert not filled, f"the example carries values: {filled}"


def test_no_symmetric_jwt_secret_is_left_in_any_deployment_file():
    files = [ROOT / name for name in COMPOSE_FILES] + [ENV_EXAMPLE, DEPLOY_DOC]
    files += [p for p in DEPLOY.rglob("*") if p.is_file() and p.suffix in ("", ".yml", ".yaml", ".sh", ".env", ".md", ".sql", ".json")]
    readme = (ROOT / "README.md").read_text()
    deployment = readme[readme.index("## Deployment"):readme.index("## Tests")]
    for path in files:
        assert "JWT_SECRET" not in path.read_text(errors="replace"), path.relative_to(ROOT)
    assert "JWT_SECRET" not in deployment


def test_compose_apis_read_the_token_trust_file_from_a_read_only_mount(models):
    for name, model in models.items():
        for service, svc in interpolate(model, _filled(_required(model)))["services"].items():
            if not service.endswith("-api"):
                continue
            assert svc["environment"]["COOP_AUTH_ISSUERS_FILE"] == "/etc/coop/auth/issuers.json"
            assert "./secrets/coop_auth_dir:/etc/coop/auth:ro" in svc["volumes"], f"{name}: {service}"
            assert "COOP_DEV_MODE" not in svc["environment"], f"{name}: {service} in development mode"


def test_compose_tls_follows_the_tls_folder_and_the_healthcheck_with_it(models):
    for model in models.values():
        required = _filled(_required(model))
        plain = interpolate(model, required)["services"]["elections-api"]
        assert {plain["environment"][k] for k in ("COOP_TLS_CERT", "COOP_TLS_KEY", "COOP_TLS_CA")} == {""}
        assert "./deploy/compose/no-tls:/etc/coop/tls:ro" in plain["volumes"]
        tls = interpolate(model, {**required, "COOP_TLS_DIR": "./secrets/tls"})["services"]["elections-api"]
        assert tls["environment"]["COOP_TLS_CERT"] == "/etc/coop/tls/tls.crt"
        assert tls["environment"]["COOP_TLS_KEY"] == "/etc/coop/tls/tls.key"
        assert tls["environment"]["COOP_TLS_CA"] == "/etc/coop/tls/ca.crt"  # the healthcheck's
        assert tls["environment"]["COOP_TLS_SERVER_NAME"] == "elections-api"
        assert "./secrets/tls:/etc/coop/tls:ro" in tls["volumes"]
    assert not [p for p in (DEPLOY / "compose" / "no-tls").iterdir() if p.suffix != ".md"]


# ------------------------------------------------------------- compose exposure

METRICS_PORTS = {9101, 9102, 9103, 9104, 9105, 9201, 9202, 9203, 9204, 9205, 15692}


def test_compose_publishes_only_on_the_loopback_and_never_metrics_or_postgresql(models):
    for name, model in models.items():
        services = interpolate(model, _filled(_required(model)))["services"]
        published: set[int] = set()
        for service, svc in services.items():
            for port in svc.get("ports", []):
                assert isinstance(port, str) and port.count(":") == 2, f"{name}: {service} publishes {port!r}"
                host, _, container = port.split(":")
                assert host == "127.0.0.1", f"{name}: {service} publishes {port} beyond this host"
                published.add(int(container))
        assert 50053 in published
        assert not published & METRICS_PORTS, f"{name}: metrics published {published & METRICS_PORTS}"
        assert 5432 not in published, f"{name}: PostgreSQL published"
        opened = interpolate(model, {**_filled(_required(model)), "COOP_PUBLISH_ADDRESS": "192.0.2.1"})
        assert all(p.startswith("192.0.2.1:") for s in opened["services"].values() for p in s.get("ports", []))


def test_compose_containers_drop_all_capabilities_gain_no_privilege_and_have_limits(models):
    for name, model in models.items():
        for service, svc in model["services"].items():
            where = f"{name}: {service}"
            assert svc.get("cap_drop") == ["ALL"], where
            assert "no-new-privileges:true" in svc.get("security_opt", []), where
            limits = svc.get("deploy", {}).get("resources", {}).get("limits", {})
            assert {"cpus", "memory"} <= set(limits), f"{where}: resource limits"
            if service in ("postgres", "rabbitmq"):  # started as their own user, never as root
                assert svc["user"] == "999:999", where


def test_prometheus_has_no_lifecycle_api(models):
    for name, model in models.items():
        for service, svc in model["services"].items():
            assert "--web.enable-lifecycle" not in str(svc.get("command", "")), f"{name}: {service}"
    for path in [p for p in DEPLOY.rglob("*.y*ml")]:
        assert "enable-lifecycle" not in path.read_text(), path


# ------------------------------------------------------------ kubernetes secrets


def _by_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def _workloads(docs: list[dict]) -> list[dict]:
    return [d for d in docs if d["kind"] in WORKLOAD_KINDS]


def _pod_spec(workload: dict) -> dict:
    template = workload["spec"]["jobTemplate"]["spec"]["template"] if workload["kind"] == "CronJob" \
        else workload["spec"]["template"]
    return template["spec"]


def _pod_labels(workload: dict) -> dict[str, str]:
    template = workload["spec"]["jobTemplate"]["spec"]["template"] if workload["kind"] == "CronJob" \
        else workload["spec"]["template"]
    return template["metadata"].get("labels", {})


def _referenced_secrets(docs: list[dict]) -> set[str]:
    names: set[str] = set()
    for workload in _workloads(docs):
        pod = _pod_spec(workload)
        for c in pod.get("initContainers", []) + pod["containers"]:
            names |= {e["secretRef"]["name"] for e in c.get("envFrom", []) if "secretRef" in e}
            names |= {e["valueFrom"]["secretKeyRef"]["name"] for e in c.get("env", [])
                      if "secretKeyRef" in e.get("valueFrom", {})}
        names |= {v["secret"]["secretName"] for v in pod.get("volumes", []) if "secret" in v}
    return names


def _documented_secrets() -> set[str]:
    """Secrets docs/deploy.md tells the operator to create (`kubectl ... create secret ...`)."""
    return set(re.findall(r"kubectl (?:-n \S+ )?create secret (?:generic|tls) ([a-z0-9-]+)", DEPLOY_DOC.read_text()))


def _dev_secrets() -> list[dict]:
    out = subprocess.run(["bash", str(DEV_SECRETS)], capture_output=True, text=True, check=True, timeout=60).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def test_k8s_overlays_commit_no_secret_value():
    for path in K8S.rglob("*"):
        if not path.is_file():
            continue
        rel = path.relative_to(ROOT)
        assert path.suffix != ".env", f"{rel}: a committed env file"
        if path.suffix in (".yaml", ".yml"):
            text = path.read_text()
            assert "secretGenerator" not in text, f"{rel} generates a Secret from committed values"
            for doc in yaml.safe_load_all(text):
                assert not (isinstance(doc, dict) and doc.get("kind") == "Secret"), f"{rel} commits a Secret"


def test_k8s_workloads_use_only_the_secrets_the_operator_is_told_to_create(production, partner):
    documented = _documented_secrets()
    for docs in (production, partner):
        assert not _by_kind(docs, "Secret"), "no Secret comes out of an overlay"
        referenced = _referenced_secrets(docs)
        assert {"coop-auth", "coop-grpc-tls"} <= referenced
        assert referenced <= documented, f"undocumented Secrets: {referenced - documented}"
    assert _referenced_secrets(production) >= {f"coop-{s}-secrets" for s in SERVICES}


def test_dev_secrets_script_draws_fresh_passwords_for_every_secret_the_dev_overlay_uses(dev):
    first, second = _dev_secrets(), _dev_secrets()
    secrets = {d["metadata"]["name"]: d["stringData"] for d in first}
    assert all(d["kind"] == "Secret" for d in first)
    assert _referenced_secrets(dev) <= set(secrets), "a Secret the dev overlay uses is not made by the script"
    assert not _by_kind(dev, "Secret")
    values = [v for d in first for k, v in d["stringData"].items() if "PASS" in k]
    assert values and all(re.fullmatch(r"[0-9a-f]{48}", v) for v in values)
    assert len(set(values)) == len(values), "every password is its own"
    assert not set(values) & {v for d in second for v in d["stringData"].values()}, "drawn anew on each run"
    for service in SERVICES:
        urls = secrets[f"coop-{service}-secrets"]
        db = secrets["postgres-service-passwords"][f"COOP_PG_PASSWORD_{service.upper()}"]
        amqp = secrets["coop-broker-passwords"][f"{service.upper()}_AMQP_PASSWORD"]
        assert urls["COOP_DATABASE_URL"] == f"postgresql+psycopg2://{service}:{db}@postgres:5432/{service}"
        assert urls["COOP_AMQP_URL"] == f"amqp://{service}:{amqp}@rabbitmq:5672/"
    assert set(secrets["rabbitmq-admin"]) == {"RABBITMQ_DEFAULT_USER", "RABBITMQ_DEFAULT_PASS"}


def test_development_mode_only_in_the_dev_overlay(dev, production, partner):
    for docs, expected in ((dev, {"1"}), (production, set()), (partner, set())):
        modes = {cm["data"].get("COOP_DEV_MODE") for cm in _by_kind(docs, "ConfigMap").values()} - {None}
        for workload in _workloads(docs):
            for c in _pod_spec(workload)["containers"]:
                modes |= {e.get("value") for e in c.get("env", []) if e["name"] == "COOP_DEV_MODE"}
        assert modes == expected


def test_production_overlays_mount_the_trust_file_and_serve_tls(production, partner):
    for docs in (production, partner):
        for name, workload in _by_kind(docs, "Deployment").items():
            pod = _pod_spec(workload)
            (main,) = pod["containers"]
            env = {e["name"]: e.get("value") for e in main.get("env", [])}
            mounts = {m["mountPath"]: m for m in main["volumeMounts"]}
            volumes = {v["name"]: v for v in pod["volumes"]}
            if not name.endswith("-api"):
                assert "/etc/coop/tls" not in mounts and "/etc/coop/auth" not in mounts, name
                continue
            assert env["COOP_AUTH_ISSUERS_FILE"] == "/etc/coop/auth/issuers.json"
            assert mounts["/etc/coop/auth"]["readOnly"] is True
            assert volumes[mounts["/etc/coop/auth"]["name"]]["secret"]["secretName"] == "coop-auth"
            assert (env["COOP_TLS_CERT"], env["COOP_TLS_KEY"], env["COOP_TLS_CA"]) == (
                "/etc/coop/tls/tls.crt", "/etc/coop/tls/tls.key", "/etc/coop/tls/ca.crt")
            assert env["COOP_TLS_SERVER_NAME"] == "$(COOP_SERVICE_NAME)-api"
            assert mounts["/etc/coop/tls"]["readOnly"] is True
            assert volumes[mounts["/etc/coop/tls"]["name"]]["secret"]["secretName"] == "coop-grpc-tls"


# ----------------------------------------------------------------------- probes


def test_api_liveness_never_depends_on_the_database(rendered):
    """The gRPC health service says NOT_SERVING while the database is away; as a liveness
    probe it restarted every api pod on a database blip. Liveness and start-up are TCP
    connects now; only readiness asks the health service (natively or, with TLS, by exec)."""
    for overlay, docs in rendered.items():
        apis = [d for d in _workloads(docs) if d["metadata"]["name"].endswith("-api")]
        assert apis, overlay
        for api in apis:
            (main,) = _pod_spec(api)["containers"]
            where = f"{overlay}: {api['metadata']['name']}"
            for probe in ("livenessProbe", "startupProbe"):
                handlers = set(main[probe]) & {"grpc", "exec", "httpGet", "tcpSocket"}
                assert handlers == {"tcpSocket"}, f"{where}: {probe} {main[probe]}"
            readiness = main["readinessProbe"]
            assert "grpc" in readiness or readiness["exec"]["command"][-1] == "coop_platform.healthcheck", where


# --------------------------------------------------------------- network policies


@dataclass(frozen=True)
class Endpoint:
    """One end of a connection: a pod (namespace, labels, named ports) or, with no namespace,
    an address outside the cluster."""

    namespace: str | None
    labels: Mapping[str, str] = field(default_factory=dict)
    namespace_labels: Mapping[str, str] = field(default_factory=dict)
    ports: Mapping[str, int] = field(default_factory=dict)
    ip: str | None = None
    name: str = ""


def _selects(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    selector = selector or {}
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, op, values = expression["key"], expression["operator"], expression.get("values", [])
        if not {"In": key in labels and labels[key] in values,
                "NotIn": key not in labels or labels[key] not in values,
                "Exists": key in labels, "DoesNotExist": key not in labels}[op]:
            return False
    return True


def _peer_matches(peer: Mapping[str, Any], policy_namespace: str, other: Endpoint) -> bool:
    if "ipBlock" in peer:
        if other.namespace is not None or other.ip is None:
            return False
        address = ipaddress.ip_address(other.ip)
        network = ipaddress.ip_network(peer["ipBlock"]["cidr"])
        return address.version == network.version and address in network and not any(
            address in ipaddress.ip_network(e) for e in peer["ipBlock"].get("except", [])
            if ipaddress.ip_network(e).version == address.version)
    if other.namespace is None:
        return False
    if "namespaceSelector" in peer:
        namespace_ok = _selects(peer["namespaceSelector"], other.namespace_labels)
    else:
        namespace_ok = other.namespace == policy_namespace
    return namespace_ok and ("podSelector" not in peer or _selects(peer["podSelector"], other.labels))


def _port_matches(rule_ports: list[Mapping[str, Any]] | None, port: int, protocol: str, target: Endpoint) -> bool:
    if not rule_ports:
        return True
    for entry in rule_ports:
        if entry.get("protocol", "TCP") != protocol:
            continue
        wanted = entry.get("port")
        if wanted is None:
            return True
        number = target.ports.get(wanted) if isinstance(wanted, str) else wanted
        if number is not None and number <= port <= entry.get("endPort", number):
            return True
    return False


def _policy_types(policy: dict) -> list[str]:
    spec = policy["spec"]
    return spec.get("policyTypes") or ["Ingress", *(["Egress"] if "egress" in spec else [])]


def _isolating(policies: list[dict], pod: Endpoint, direction: str) -> list[dict]:
    return [p for p in policies if p["metadata"]["namespace"] == pod.namespace
            and _selects(p["spec"]["podSelector"], pod.labels) and direction in _policy_types(p)]


def _side_allows(policies: list[dict], direction: str, pod: Endpoint, other: Endpoint, port: int,
                 protocol: str, target: Endpoint) -> bool:
    relevant = _isolating(policies, pod, direction)
    if not relevant:
        return True
    rules, peers = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    return any(
        (not rule.get(peers) or any(_peer_matches(peer, p["metadata"]["namespace"], other) for peer in rule[peers]))
        and _port_matches(rule.get("ports"), port, protocol, target)
        for p in relevant for rule in p["spec"].get(rules, []))


def flow_allowed(policies: list[dict], source: Endpoint, target: Endpoint, port: int, protocol: str = "TCP") -> bool:
    """NetworkPolicy semantics: the source's egress and the target's ingress must both allow it."""
    egress = source.namespace is None or _side_allows(policies, "Egress", source, target, port, protocol, target)
    ingress = target.namespace is None or _side_allows(policies, "Ingress", target, source, port, protocol, target)
    return egress and ingress


def _pods(docs: list[dict]) -> dict[str, Endpoint]:
    pods = {}
    for workload in _workloads(docs):
        namespace = workload["metadata"]["namespace"]
        ports = {p["name"]: p["containerPort"] for c in _pod_spec(workload)["containers"]
                 for p in c.get("ports", []) if "name" in p}
        pods[workload["metadata"]["name"]] = Endpoint(
            namespace, _pod_labels(workload), {"kubernetes.io/metadata.name": namespace}, ports,
            name=workload["metadata"]["name"])
    return pods


def _namespace(name: str, **labels: str) -> dict[str, str]:
    return {"kubernetes.io/metadata.name": name, **labels}


PORTAL = Endpoint("member-portal", {"app": "portal", "coopgov.org/grpc-client": "true"},
                  _namespace("member-portal", **{"coopgov.org/grpc-clients": "true"}))
PORTAL_OTHER_POD = Endpoint("member-portal", {"app": "cron"}, PORTAL.namespace_labels)
ELSEWHERE = Endpoint("elsewhere", {"coopgov.org/grpc-client": "true"}, _namespace("elsewhere"))
PROMETHEUS = Endpoint("monitoring", {"app.kubernetes.io/name": "prometheus"},
                      _namespace("monitoring", **{"coopgov.org/monitoring": "true"}))
KUBE_DNS = Endpoint("kube-system", {"k8s-app": "kube-dns"}, _namespace("kube-system"))
CLUSTER_POSTGRES = Endpoint("databases", {"app": "pg"}, _namespace("databases", **{"coopgov.org/datastore": "postgres"}))
CLUSTER_RABBITMQ = Endpoint("messaging", {"app": "mq"}, _namespace("messaging", **{"coopgov.org/datastore": "rabbitmq"}))
INTERNET = Endpoint(None, ip="203.0.113.7")


def _external(docs: list[dict], policy: str) -> Endpoint:
    """An address inside the CIDR the overlay's external-datastore policy names."""
    cidr = _by_kind(docs, "NetworkPolicy")[policy]["spec"]["egress"][0]["to"][0]["ipBlock"]["cidr"]
    return Endpoint(None, ip=str(next(iter(ipaddress.ip_network(cidr)))))


def test_the_policy_evaluator_follows_networkpolicy_semantics():
    ns, pod = "n", Endpoint("n", {"app": "a"}, _namespace("n"), {"web": 8080})
    deny = {"metadata": {"name": "d", "namespace": ns}, "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}
    web = {"metadata": {"name": "w", "namespace": ns}, "spec": {
        "podSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["a"]}]},
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "client"}}}], "ports": [{"port": "web"}]}]}}
    client, stranger = Endpoint(ns, {"role": "client"}, _namespace(ns)), Endpoint("m", {"role": "client"}, _namespace("m"))
    assert flow_allowed([], stranger, pod, 1234)
    assert not flow_allowed([deny], client, pod, 8080)
    assert flow_allowed([deny, web], client, pod, 8080)
    assert not flow_allowed([deny, web], client, pod, 8081)
    assert not flow_allowed([deny, web], client, pod, 8080, "UDP")
    assert not flow_allowed([deny, web], stranger, pod, 8080), "a bare podSelector means the policy's namespace"
    out = {"metadata": {"name": "o", "namespace": ns}, "spec": {"podSelector": {}, "policyTypes": ["Egress"],
           "egress": [{"to": [{"ipBlock": {"cidr": "203.0.113.0/24", "except": ["203.0.113.7/32"]}}]}]}}
    assert flow_allowed([out], pod, Endpoint(None, ip="203.0.113.8"), 443)
    assert not flow_allowed([out], pod, INTERNET, 443)
    assert not flow_allowed([out], pod, client, 443), "an ipBlock never names a pod"


@pytest.mark.parametrize("overlay", ["dev", "production", "partner-elections"])
def test_network_policies_isolate_every_workload_both_ways(rendered, overlay):
    docs = rendered[overlay]
    policies = list(_by_kind(docs, "NetworkPolicy").values())
    assert "default-deny-all" in {p["metadata"]["name"] for p in policies}
    for name, pod in _pods(docs).items():
        for direction in ("Ingress", "Egress"):
            assert _isolating(policies, pod, direction), f"{overlay}: {name} is open for {direction}"
        assert flow_allowed(policies, pod, KUBE_DNS, 53, "UDP") and flow_allowed(policies, pod, KUBE_DNS, 53)
        assert not flow_allowed(policies, pod, INTERNET, 80), f"{overlay}: {name} reaches the internet"


@pytest.mark.parametrize("overlay", ["dev", "production", "partner-elections"])
def test_network_policies_allow_the_flows_the_services_need_and_nothing_else(rendered, overlay):
    docs = rendered[overlay]
    policies = list(_by_kind(docs, "NetworkPolicy").values())
    pods = _pods(docs)
    services = [s for s in SERVICES if f"{s}-api" in pods]
    assert services
    if overlay == "dev":
        postgres, rabbitmq = pods["postgres"], pods["rabbitmq"]
    else:
        postgres, rabbitmq = CLUSTER_POSTGRES, CLUSTER_RABBITMQ
        external_pg = _external(docs, "coop-egress-external-postgres")
        external_mq = _external(docs, "coop-worker-egress-external-rabbitmq")

    def allowed(source: Endpoint, target: Endpoint, port: int, protocol: str = "TCP") -> bool:
        return flow_allowed(policies, source, target, port, protocol)

    for service in services:
        api, worker = pods[f"{service}-api"], pods[f"{service}-worker"]
        grpc, metrics, worker_metrics = api.ports["grpc"], api.ports["metrics"], worker.ports["metrics"]
        # needed
        assert allowed(PORTAL, api, grpc), f"{overlay}: the portal calls {service}"
        assert allowed(PROMETHEUS, api, metrics) and allowed(PROMETHEUS, worker, worker_metrics)
        assert allowed(api, postgres, 5432) and allowed(worker, postgres, 5432)
        assert allowed(worker, rabbitmq, 5672)
        # not needed, so closed
        assert not allowed(ELSEWHERE, api, grpc), "a namespace that did not opt in"
        assert not allowed(PORTAL_OTHER_POD, api, grpc), "a portal pod that did not opt in"
        assert not allowed(PORTAL, api, metrics) and not allowed(PORTAL, worker, worker_metrics)
        assert not allowed(PROMETHEUS, api, grpc)
        assert not allowed(api, rabbitmq, 5672), "the api never talks to the broker"
        assert not allowed(worker, INTERNET, 443) and not allowed(api, INTERNET, 5432)
        for other in services:
            if other != service:
                assert not allowed(api, pods[f"{other}-api"], grpc), "no service calls another over gRPC"
                assert not allowed(worker, pods[f"{other}-api"], pods[f"{other}-api"].ports["grpc"])
        if overlay == "dev":
            assert not allowed(api, INTERNET, 443), "development mode needs no JWKS fetch"
            assert allowed(PROMETHEUS, rabbitmq, 15692) and not allowed(api, rabbitmq, 15692)
            assert not allowed(PORTAL, postgres, 5432) and not allowed(PORTAL, rabbitmq, 5672)
        else:
            assert allowed(api, INTERNET, 443), "the api fetches its issuers' JWKS"
            assert allowed(api, external_pg, 5432) and allowed(worker, external_pg, 5432)
            assert allowed(worker, external_mq, 5671) and not allowed(api, external_mq, 5671)
            assert not allowed(worker, external_pg, 5672)


# ------------------------------------------------------------- postgres init script


def _psql(sql: str) -> str:
    return subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-tAc", sql],
                          capture_output=True, text=True, check=True, timeout=60).stdout.strip()


def _init(databases: list[str], passwords: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COOP_PG_PASSWORD_")}
    env.update(POSTGRES_USER="postgres", PGHOST="127.0.0.1", COOP_SERVICE_DATABASES=" ".join(databases),
               **{f"COOP_PG_PASSWORD_{db.upper()}": pw for db, pw in passwords.items()})
    return subprocess.run(["bash", str(INIT_SCRIPT)], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture()
def scratch_roles():
    names = [f"coop_init_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    yield names
    for name in names:
        _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _psql(f'DROP ROLE IF EXISTS "{name}"')


@pytest.mark.postgres
def test_postgres_init_refuses_a_database_without_its_password(scratch_roles):
    first, second = scratch_roles
    proc = _init([first, second], {first: uuid.uuid4().hex})
    assert proc.returncode != 0
    assert f"COOP_PG_PASSWORD_{second.upper()} is empty" in proc.stderr
    assert _psql(f"SELECT count(*) FROM pg_roles WHERE rolname = '{second}'") == "0"


@pytest.mark.postgres
def test_postgres_init_creates_each_role_and_database_with_its_own_password(scratch_roles):
    passwords = {name: uuid.uuid4().hex for name in scratch_roles}
    proc = _init(scratch_roles, passwords)
    assert proc.returncode == 0, proc.stderr
    for name in scratch_roles:
        assert _psql(f"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{name}'") == name
        stored = _psql(f"SELECT rolpassword FROM pg_authid WHERE rolname = '{name}'")
        assert stored.startswith("SCRAM-SHA-256$"), "a password, hashed"
    assert len({_psql(f"SELECT rolpassword FROM pg_authid WHERE rolname = '{n}'") for n in scratch_roles}) == 2
