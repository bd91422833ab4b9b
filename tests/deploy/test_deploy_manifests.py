"""Offline checks of the deployment artefacts (DESIGN D7, D8).

No Docker engine or cluster is needed here (tests/e2e starts the Compose stack for real): the
Compose files are validated against
the Compose specification, kustomizations are rendered with `kubectl kustomize`
and validated with kubernetes-validate (tests/deploy/conftest.py), Prometheus config and
alert rules go through promtool (including rule unit tests), and the Grafana dashboard is
parsed and its queries checked against the metric names the code exports. The hardening
rules (secrets, ports, capabilities, probes, NetworkPolicies) are in test_deploy_hardening.py.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml

from coop_platform.registry import services as installed_services

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE_FILES = ("docker-compose.yml", "docker-compose.partner-elections.yml")
PROM_DIR = DEPLOY / "prometheus"
K8S = DEPLOY / "k8s"

# Services deployed: every installed one (the registry, coop_platform.registry), name ->
# (grpc port, api metrics port, worker metrics port) as its manifest says. A service installed
# here but missing from a deployment file fails the checks below.
SERVICES = {s.name: (s.grpc_port, s.api_metrics_port, s.worker_metrics_port) for s in installed_services().values()}
SERVED_TENANTS = {s.name: ",".join(s.tenants) for s in installed_services().values()}
ALL_DATABASES = {*SERVICES, "notifications"}
PARTNER_SERVICES = {"broker-setup", "rabbitmq", "postgres", "elections-migrate", "elections-api", "elections-worker",
                    "prometheus"}
# Every metric name a dashboard or alert may reference (DESIGN D7).
KNOWN_METRICS = {
    "up",
    "grpc_server_started_total",
    "grpc_server_handled_total",
    "grpc_server_handling_seconds_bucket",
    "grpc_server_handling_seconds_sum",
    "grpc_server_handling_seconds_count",
    "coop_outbox_pending",
    "coop_outbox_oldest_age_seconds",
    "coop_dead_lettered_total",
    "coop_dead_letter_queue_messages",
    "coop_outbox_quarantined_rows",
    "coop_outbox_unroutable_total",
    "coop_outbox_purged_total",
    "coop_event_retries_total",
    "coop_events_refused_total",
    "coop_unroutable_queue_messages",
    "coop_worker_handler_calls_total",
    "coop_members_in_good_standing",
    "coop_members",
    "coop_ballots_cast_total",
    "coop_election_turnout_ratio",
    "coop_batch_size_sum",
    "coop_batch_size_count",
    # the board's gauges (docs/board.md)
    "coop_board_sitting_directors",
    "coop_board_vacant_seats",
    "coop_board_observer_seats_taken",
    "coop_board_overdue_actions",
    "coop_board_composition_ok",
    # member participation (issue 12)
    "coop_board_outcomes_overdue",
    "coop_board_initiative_signatures_total",
    "coop_board_assembly_registrations_total",
    "coop_board_convocations_sent_total",
    # the notifications worker's (docs/notifications.md)
    "coop_notifications_queue_depth",
    "coop_notifications_deliveries_total",
    "coop_notifications_oldest_pending_legal_age_seconds",
    "coop_notifications_template_errors_total",
}

# Aggregation labels allowed in queries: nothing that identifies a person.
ALLOWED_GROUPING_LABELS = {
    "service",
    "batch",
    "job",
    "instance",
    "grpc_code",
    "grpc_method",
    "grpc_service",
    "grpc_type",
    "le",
    "status",
    "outcome",
    "handler",
    "tenant",      # a cooperative, not a person
    "change",      # signatures: given or withdrawn
    "attendance",  # assembly registrations: in person or remote
    "priority",  # notifications' classes: legal, transactional, reminder, digestible
}
PROMQL_WORDS = {
    # functions and aggregations used in our queries (extend when needed)
    "sum",
    "max",
    "min",
    "avg",
    "count",
    "rate",
    "irate",
    "increase",
    "delta",
    "histogram_quantile",
    "clamp_min",
    "clamp_max",
    "topk",
    "bottomk",
    "abs",
    "label_values",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "vector",
    "time",
    "absent",
    "inf",
    "nan",
}


# ------------------------------------------------------------------- compose


def _is_our_image(svc: dict) -> bool:
    return re.fullmatch(r"\$\{COOP_([A-Z_]+)_IMAGE:-coopgov-\w+:dev\}", str(svc.get("image", ""))) is not None \
        and not str(svc["image"]).startswith(("${COOP_POSTGRES", "${COOP_RABBITMQ", "${COOP_PROMETHEUS", "${COOP_GRAFANA"))


def test_compose_our_images_are_one_per_service_and_the_k8s_ones(compose, partner_compose, production, dev):
    """The images `make images` builds (deploy/docker/build_images.sh) are the ones the Compose
    files and the k8s manifests name: coopgov-<service>, one per service."""
    for services in (compose["services"], partner_compose["services"]):
        for name, svc in services.items():
            if _is_our_image(svc):
                owner = "elections" if name == "broker-setup" else name.split("-")[0]
                assert svc["image"] == f"${{COOP_{owner.upper()}_IMAGE:-coopgov-{owner}:dev}}", name
    script = (DEPLOY / "docker" / "build_images.sh").read_text()
    assert f"SERVICES=({' '.join(SERVICES)})" in script and "coopgov-$svc:$TAG" in script
    for service in SERVICES:
        assert f"COOP_{service.upper()}_IMAGE=coopgov-{service}:$TAG" in script, f"images.env names {service}"
    for docs, registry, tag in ((dev, "", "dev"), (production, "ghcr.io/coopgov/", "0.1.0")):
        for dep in _by_kind(docs, "Deployment").values():
            service = dep["metadata"]["labels"]["app.kubernetes.io/name"]
            if service not in SERVICES:
                continue
            for c in dep["spec"]["template"]["spec"]["initContainers"] + dep["spec"]["template"]["spec"]["containers"]:
                assert c["image"] == f"{registry}coopgov-{service}:{tag}", (dep["metadata"]["name"], c["image"])


def _active(compose: dict, profile: str) -> set[str]:
    return {
        name
        for name, svc in compose["services"].items()
        if not svc.get("profiles") or profile in svc["profiles"]
    }


def _depends_on(svc: dict) -> dict[str, dict]:
    dep = svc.get("depends_on", {})
    return {d: {"condition": "service_started"} for d in dep} if isinstance(dep, list) else dep


def _both(compose: dict, partner_compose: dict) -> dict[str, dict]:
    return {"docker-compose.yml": compose, "docker-compose.partner-elections.yml": partner_compose}


def test_compose_files_match_compose_spec(run, tool):
    run([tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec",
         *(str(ROOT / name) for name in COMPOSE_FILES)])


def test_compose_our_services_have_healthcheck_or_are_one_shot_migrations(compose, partner_compose):
    for file, services in _both(compose, partner_compose).items():
        ours = {n: s for n, s in services["services"].items() if _is_our_image(s)}
        expected = SERVICES if file == "docker-compose.yml" else {"elections": SERVICES["elections"]}
        assert len(ours) == 3 * len(expected) + 1, file  # and broker-setup (tests/deploy/test_broker_deploy.py)
        for name, svc in ours.items():
            if name.endswith("-migrate") or name == "broker-setup":
                assert svc["command"][:2] == (["coop", "broker"] if name == "broker-setup" else ["coop", "migrate"]), name
                assert svc.get("restart") == "no", f"{name} must be one-shot"
                assert "healthcheck" not in svc, name
            else:
                hc = svc.get("healthcheck")
                assert hc and not hc.get("disable") and hc.get("test"), f"{name} has no healthcheck"
            assert svc.get("read_only") is True, f"{name} should run with a read-only root filesystem"


def _service_url(scheme: str, service: str, kind: str, where: str) -> str:
    """How a Compose file writes a service's own credentials: its role (or broker user) and a
    password the operator must give (no default)."""
    var = f"{service.upper()}_{kind}_PASSWORD"
    return f"{scheme}://{service}:${{{var}:?set {var} (see deploy/compose.env.example)}}@{where}"


def test_compose_api_and_worker_wait_for_migrations_and_infra(compose, partner_compose):
    for file, model in _both(compose, partner_compose).items():
        services = model["services"]
        for svc_name, (grpc, api_metrics, worker_metrics) in SERVICES.items():
            if f"{svc_name}-migrate" not in services:
                continue
            database = _service_url("postgresql+psycopg2", svc_name, "DB", f"postgres:5432/{svc_name}")
            migrate = services[f"{svc_name}-migrate"]
            assert migrate["command"] == ["coop", "migrate", svc_name]
            assert _depends_on(migrate)["postgres"]["condition"] == "service_healthy"
            assert migrate["environment"]["COOP_DATABASE_URL"] == database
            for role, metrics in (("api", api_metrics), ("worker", worker_metrics)):
                name = f"{svc_name}-{role}"
                svc = services[name]
                deps = _depends_on(svc)
                assert (
                    deps.get(f"{svc_name}-migrate", {}).get("condition")
                    == "service_completed_successfully"
                ), f"{file}: {name} must wait for {svc_name}-migrate to complete"
                assert deps["postgres"]["condition"] == "service_healthy"
                assert deps["rabbitmq"]["condition"] == "service_healthy"
                env = svc["environment"]
                module = "grpc_api" if role == "api" else "worker"
                assert svc["command"] == ["python", "-m", f"coop_{svc_name}.entrypoints.{module}"]
                assert env["COOP_SERVICE_NAME"] == svc_name
                assert env["COOP_METRICS_PORT"] == str(metrics)
                assert env["COOP_METRICS_HOST"] == "0.0.0.0", f"{name}: Prometheus scrapes it in the network"
                assert env["COOP_DATABASE_URL"] == database
                assert "COOP_LOG_LEVEL" in env
                if role == "api":
                    assert env["COOP_GRPC_PORT"] == str(grpc)
                    assert env["COOP_GRPC_HOST"] == "0.0.0.0"
                    assert env["COOP_SERVED_TENANTS"] == SERVED_TENANTS[svc_name]
                    assert env["COOP_TLS_SERVER_NAME"] == name
                    assert "COOP_AMQP_URL" not in env, f"{name}: the api never talks to the broker"
                    assert str(grpc) in " ".join(svc["healthcheck"]["test"])
                else:
                    assert env["COOP_AMQP_URL"] == _service_url("amqp", svc_name, "AMQP", "rabbitmq:5672/")
                    assert f":{metrics}/metrics" in " ".join(svc["healthcheck"]["test"])


def test_compose_profiles(compose, partner_compose):
    services = compose["services"]
    assert all(s.get("profiles") == ["full"] for s in services.values()), "every service in profile full"
    assert set(partner_compose["services"]) == PARTNER_SERVICES
    others = tuple(f"{s}-" for s in SERVICES if s != "elections")
    assert not [n for n in partner_compose["services"] if n.startswith((*others, "grafana"))]
    # Each stack is closed under depends_on, so `up` starts cleanly.
    for model in (compose, partner_compose):
        active = set(model["services"])
        for name in active:
            missing = set(_depends_on(model["services"][name])) - active
            assert not missing, f"{name} depends on {missing}, outside its file"


def _without(svc: dict, *keys: str) -> dict:
    return {k: v for k, v in svc.items() if k not in keys}


def test_compose_partner_file_runs_the_same_containers_as_the_full_platform(compose, partner_compose):
    """The partner file is a copy (Compose interpolates every service of a file, so a partner
    could not start a profile of docker-compose.yml without the other services' passwords):
    the containers both run must stay the same."""
    full, partner = compose["services"], partner_compose["services"]
    for name in ("rabbitmq", "elections-migrate", "elections-api", "elections-worker"):
        assert _without(partner[name], "profiles") == _without(full[name], "profiles"), name
    assert _without(partner["postgres"], "profiles", "environment") == _without(full["postgres"], "profiles", "environment")
    full_pg, partner_pg = full["postgres"]["environment"], partner["postgres"]["environment"]
    assert partner_pg["COOP_SERVICE_DATABASES"] == "elections"
    others = [s.upper() for s in SERVICES if s != "elections"]
    assert {k: v for k, v in full_pg.items() if not any(o in k for o in others)
            and k != "COOP_SERVICE_DATABASES"} == _without(partner_pg, "COOP_SERVICE_DATABASES")
    assert _without(partner["prometheus"], "command") == _without(full["prometheus"], "profiles", "command")
    assert "--config.file=/etc/prometheus/prometheus-elections.yml" in partner["prometheus"]["command"]


def test_compose_infra_files(compose, run):
    services = compose["services"]
    assert services["rabbitmq"]["image"] == "${COOP_RABBITMQ_IMAGE:-rabbitmq:3.13-management}"
    plugins = (DEPLOY / "rabbitmq" / "enabled_plugins").read_text()
    assert "rabbitmq_prometheus" in plugins and plugins.strip().endswith("].")
    assert any("enabled_plugins" in v for v in services["rabbitmq"]["volumes"])
    assert services["postgres"]["image"] == "${COOP_POSTGRES_IMAGE:-postgres:16}"
    init = DEPLOY / "postgres" / "init" / "01-create-service-databases.sh"
    assert os.access(init, os.X_OK)
    assert (
        set(
            re.search(r'databases="\$\{COOP_SERVICE_DATABASES:-([^}]*)\}"', init.read_text())
            .group(1)
            .split()
        )
        == ALL_DATABASES
    )
    assert set(services["postgres"]["environment"]["COOP_SERVICE_DATABASES"].split()) == set(SERVICES)
    dev_copy = K8S / "overlays" / "dev" / "01-create-service-databases.sh"
    assert dev_copy.read_text() == init.read_text(), "the dev overlay's copy must stay equal"
    run(["bash", "-n", str(init)])
    for name in ("prometheus", "grafana"):
        for vol in services[name]["volumes"]:
            src = vol.split(":")[0]
            if src.startswith("./"):
                assert (ROOT / src).exists(), f"{name} mounts missing {src}"


def _scrape_targets(config_file: Path) -> set[str]:
    cfg = yaml.safe_load(config_file.read_text())
    return {
        t
        for job in cfg["scrape_configs"]
        for sc in job.get("static_configs", [])
        for t in sc["targets"]
    }


def _max_connections(command: list[str]) -> int:
    return int(next(arg.split("=", 1)[1] for arg in command if arg.startswith("max_connections=")))


def _pool_connections(pool_size: int) -> int:
    """Most connections one process can hold: the write pool and its overflow, and the read
    pool and its overflow (coop_platform.db.make_engine)."""
    read = max(2, pool_size // 2)
    return 2 * pool_size + 2 * read


def test_postgres_allows_every_service_pools_in_compose_and_k8s(compose, dev):
    services = [p.name for p in (ROOT / "services").iterdir() if p.is_dir() and p.name != "platform"]
    assert len(services) >= 3
    import inspect

    from coop_platform.db import make_engine

    api_pool = inspect.signature(make_engine).parameters["pool_size"].default
    worker_pool = 10  # coop_platform.worker's engine
    needed = len(services) * (_pool_connections(api_pool) + _pool_connections(worker_pool)) + 10  # + migrations
    pod = _by_kind(dev, "StatefulSet")["postgres"]
    assert _max_connections(compose["services"]["postgres"]["command"]) >= needed
    container = next(c for c in pod["spec"]["template"]["spec"]["containers"] if c["name"] == "postgres")
    assert _max_connections(container["args"]) >= needed


def test_prometheus_scrapes_every_metrics_port(compose, partner_compose):
    for model, config in ((compose, "prometheus.yml"), (partner_compose, "prometheus-elections.yml")):
        targets = _scrape_targets(PROM_DIR / config)
        ours = {
            f"{name}:{svc['environment']['COOP_METRICS_PORT']}"
            for name, svc in model["services"].items()
            if isinstance(svc.get("environment"), dict) and "COOP_METRICS_PORT" in svc["environment"]
        }
        assert ours and ours <= targets, f"{config} does not scrape {ours - targets}"
        assert "rabbitmq:15692" in targets
        assert f"--config.file=/etc/prometheus/{config}" in model["services"]["prometheus"]["command"]
    assert not [t for t in _scrape_targets(PROM_DIR / "prometheus-elections.yml")
                if t.startswith(tuple(s for s in SERVICES if s != "elections"))]


def test_dockerfile_conventions():
    text = (DEPLOY / "docker" / "Dockerfile").read_text()
    assert "ARG BASE_IMAGE=python:3.11-slim" in text
    assert re.search(r"^USER 10001", text, re.M)
    # Python packages only from the wheelhouse built on the host: no index, no network
    installs = re.findall(r"pip install [^\n]*", text)
    assert installs and all("--no-index" in line for line in installs), installs
    script = (DEPLOY / "docker" / "build_images.sh").read_text()
    assert "make --no-print-directory proto" in script, "the project wheel carries the gen/ stubs"
    # the build context is build/docker (wheels only): the operator's secrets never enter it
    assert '"$OUT" >"$OUT/build-$svc.log"' in script


def test_images_carry_the_native_libraries_of_the_elections_crypto():
    """libsodium (the group) and libdecaf (its sums: without it the proofs are checked 1.3-2x
    slower, silently) are in the local base and installed on any other base."""
    dockerfile = (DEPLOY / "docker" / "Dockerfile").read_text()
    runtime = dockerfile[dockerfile.index("AS runtime"):]
    for library, package in (("libsodium", "libsodium23"), ("libdecaf", "libdecaf0")):
        assert f"grep -q '{library}\\.so'" in runtime, library
        assert re.search(rf"apt-get install [^\n]*\b{package}\b", runtime), package
    script = (DEPLOY / "docker" / "build_images.sh").read_text()
    include = re.search(r"debootstrap [^\n]*--include=(\S+)", script)
    assert include and {"libsodium23", "libdecaf0"} <= set(include.group(1).split(","))


# ---------------------------------------------------------------- kubernetes


def _by_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def _unhashed(name: str) -> str:
    """A generated ConfigMap's name without kustomize's content-hash suffix."""
    return re.sub(r"-[a-z0-9]{10}$", "", name)


def _check_workload(dep: dict, service: str, role: str, *, tls: bool) -> None:
    name = dep["metadata"]["name"]
    pod = dep["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True, name
    assert pod["securityContext"]["runAsUser"] == 10001, name
    assert {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}} in pod["volumes"], name
    (init,) = pod["initContainers"]
    assert init["command"] == ["coop", "migrate", service], f"{name}: migrate initContainer"
    for c in pod["initContainers"] + pod["containers"]:
        assert c["image"] == init["image"], f"{name}/{c['name']}: one image for everything"
        limits = c.get("resources", {}).get("limits", {})
        requests = c.get("resources", {}).get("requests", {})
        assert {"cpu", "memory"} <= set(limits) and {"cpu", "memory"} <= set(requests), (
            f"{name}/{c['name']}: resource requests and limits"
        )
        sc = c["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False, (
            name
        )
        assert sc["capabilities"]["drop"] == ["ALL"], name
        assert {"name": "tmp", "mountPath": "/tmp"} in c["volumeMounts"], (
            f"{name}/{c['name']}: /tmp"
        )
        refs = {_unhashed(next(iter(e.values()))["name"]) for e in c["envFrom"]}
        assert refs == {f"coop-{service}-config", f"coop-{service}-secrets"}, name
    (main,) = pod["containers"]
    grpc, api_metrics, worker_metrics = SERVICES[service]
    env = {e["name"]: e.get("value") for e in main.get("env", [])}
    if role == "api":
        assert main["command"] == ["python", "-m", f"coop_{service}.entrypoints.grpc_api"]
        assert env["COOP_GRPC_PORT"] == str(grpc) and env["COOP_METRICS_PORT"] == str(api_metrics)
        assert env["COOP_GRPC_HOST"] == "0.0.0.0"
        for probe in ("livenessProbe", "startupProbe"):
            assert main[probe] == {**main[probe], "tcpSocket": {"port": "grpc"}}, f"{name}: {probe}"
        if tls:
            assert main["readinessProbe"]["exec"]["command"] == ["python", "-m", "coop_platform.healthcheck"]
        else:
            assert main["readinessProbe"]["grpc"] == {"port": grpc}, f"{name}: native gRPC readiness"
    else:
        assert main["command"] == ["python", "-m", f"coop_{service}.entrypoints.worker"]
        assert env["COOP_METRICS_PORT"] == str(worker_metrics)
        assert main["readinessProbe"]["httpGet"]["port"] == "metrics"
        assert main["livenessProbe"]["httpGet"] == {"path": "/metrics", "port": "metrics"}


def _check_config_maps(docs: list[dict], services: list[str]) -> dict[str, dict]:
    """Each service's generated ConfigMap, by service, after checking what every one says."""
    maps = {_unhashed(name): cm["data"] for name, cm in _by_kind(docs, "ConfigMap").items()}
    for service in services:
        data = maps[f"coop-{service}-config"]
        assert data["COOP_SERVICE_NAME"] == service
        assert data["COOP_METRICS_HOST"] == "0.0.0.0", "Prometheus scrapes the pod's address"
        assert data["COOP_SERVED_TENANTS"] == SERVED_TENANTS[service]
    return {service: maps[f"coop-{service}-config"] for service in services}


def _check_platform(docs: list[dict], namespace: str, *, tls: bool) -> dict[str, dict]:
    """Every service's api and worker, its api Service and ConfigMap, all in `namespace`;
    returns the ConfigMaps' data by service."""
    deployments = _by_kind(docs, "Deployment")
    assert set(deployments) == {f"{s}-{r}" for s in SERVICES for r in ("api", "worker")}
    for service in SERVICES:
        for role in ("api", "worker"):
            _check_workload(deployments[f"{service}-{role}"], service, role, tls=tls)
        port = _by_kind(docs, "Service")[f"{service}-api"]["spec"]["ports"][0]
        assert port["port"] == SERVICES[service][0]
        assert port.get("appProtocol") == (None if tls else "kubernetes.io/h2c")
    assert {d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace"} == {namespace}
    return _check_config_maps(docs, list(SERVICES))


def test_k8s_dev_overlay(dev):
    config = _check_platform(dev, "coopgov-dev", tls=False)
    assert set(_by_kind(dev, "StatefulSet")) == {"rabbitmq", "postgres"}
    assert {"rabbitmq", "postgres"} <= set(_by_kind(dev, "Service"))
    for data in config.values():
        assert data["COOP_DEV_MODE"] == "1", "the dev overlay says plainly it runs in development mode"


def test_k8s_production_overlay(production):
    _check_platform(production, "coopgov", tls=True)
    assert not _by_kind(production, "StatefulSet"), "production runs against your own datastores"


def test_k8s_partner_overlay_is_elections_only(partner):
    workloads = [
        d
        for d in partner
        if d["kind"] in ("Deployment", "StatefulSet", "Job", "CronJob", "DaemonSet")
    ]
    assert sorted(d["metadata"]["name"] for d in workloads) == ["elections-api", "elections-worker"]
    for d in workloads:
        _check_workload(d, "elections", d["metadata"]["name"].split("-")[1], tls=True)
    (ns,) = _by_kind(partner, "Namespace")
    assert ns == "coopgov-elections"
    assert {d["metadata"].get("namespace") for d in partner if d["kind"] != "Namespace"} == {ns}
    for d in partner:
        text = json.dumps(d)
        for other in (s for s in SERVICES if s != "elections"):
            assert not re.search(rf"\b{other}\b|coop_{other}", text), (d["metadata"]["name"], other)
    _check_config_maps(partner, ["elections"])


# ---------------------------------------------------------------- prometheus


@pytest.mark.parametrize("config", ["prometheus.yml", "prometheus-elections.yml"])
def test_promtool_check_config(deploy_tools, run, config):
    out = run([deploy_tools["promtool"], "check", "config", config], cwd=PROM_DIR).stdout
    assert "1 rule files found" in out, out  # rule_files resolved to alerts.yml


def test_promtool_check_rules(deploy_tools, run):
    run([deploy_tools["promtool"], "check", "rules", "alerts.yml"], cwd=PROM_DIR)


def test_promtool_rule_unit_tests(deploy_tools, run):
    run([deploy_tools["promtool"], "test", "rules", "alerts_test.yml"], cwd=PROM_DIR)


def test_alert_rules_cover_the_design():
    rules = [
        r
        for g in yaml.safe_load((PROM_DIR / "alerts.yml").read_text())["groups"]
        for r in g["rules"]
    ]
    exprs = " ".join(r["expr"] for r in rules)
    for needle in (
        "coop_outbox_pending",
        "coop_outbox_oldest_age_seconds",
        "coop_dead_lettered_total",
        "coop_outbox_quarantined_rows",
        "coop_outbox_unroutable_total",
        "coop_events_refused_total",
        "coop_event_retries_total",
        "coop_dead_letter_queue_messages",
        "grpc_server_handled_total",
        "grpc_server_handling_seconds_bucket",
        'coop_worker_handler_calls_total{outcome="error"}',
        "up == 0",
        "coop_board_overdue_actions",
        "coop_board_composition_ok",
        "coop_board_outcomes_overdue",
        "coop_notifications_oldest_pending_legal_age_seconds",
    ):
        assert needle in exprs, f"no alert on {needle}"
    for r in rules:
        _check_promql(r["expr"], f"alert {r['alert']}")
    tested = set(re.findall(r"alertname: (\w+)", (PROM_DIR / "alerts_test.yml").read_text()))
    assert len(tested) >= 2
    assert {"CoopBoardActionsOverdue", "CoopBoardCompositionBroken", "CoopBoardOutcomesOverdue"} <= tested
    overdue = next(r for r in rules if r["alert"] == "CoopBoardActionsOverdue")
    assert (overdue["for"], overdue["labels"]["severity"]) == ("7d", "warning")


# ------------------------------------------------------------------- grafana


def _metric_names(expr: str) -> tuple[set[str], set[str]]:
    """(metric names, grouping labels) referenced by a PromQL expression (our subset)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals
    e = re.sub(r"\{[^}]*\}", "", e)  # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)  # range selectors
    labels: set[str] = set()
    for m in re.finditer(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)", e):
        labels |= {x.strip() for x in m.group(1).split(",") if x.strip()}
    e = re.sub(r"\b(?:by|without|on|ignoring)\s*\([^)]*\)", "", e)
    e = re.sub(r"label_values\(\s*([a-zA-Z_:][\w:]*)\s*,\s*(\w+)\s*\)", r"\1", e)
    e = re.sub(r"\$\w+", "", e)  # dashboard variables
    idents = set(re.findall(r"(?<![\w.])[a-zA-Z_:][\w:]*", e))
    return {
        i for i in idents if i not in PROMQL_WORDS and not re.fullmatch(r"\d.*|e\d+", i)
    }, labels


def _check_promql(expr: str, where: str) -> None:
    metrics, labels = _metric_names(expr)
    assert metrics, f"{where}: no metric found in {expr!r}"
    assert metrics <= KNOWN_METRICS, (
        f"{where}: unknown metric(s) {metrics - KNOWN_METRICS} in {expr!r}"
    )
    assert labels <= ALLOWED_GROUPING_LABELS, (
        f"{where}: grouping by {labels - ALLOWED_GROUPING_LABELS}"
    )


def test_promql_name_extraction_is_strict():
    assert _metric_names('sum by (service) (rate(foo_total{a="b"}[5m])) / up')[0] == {
        "foo_total",
        "up",
    }
    with pytest.raises(AssertionError):
        _check_promql("sum by (member_id) (coop_members)", "self-test")


def test_grafana_dashboard_has_a_board_row():
    """The board's row: its gRPC services, worker, outbox and seats (issue 11)."""
    dash = json.loads((DEPLOY / "grafana" / "dashboards" / "coopgov-overview.json").read_text())
    rows = [p for p in dash["panels"] if p["type"] == "row"]
    (board_row,) = [r for r in rows if r["title"].startswith("Board")]
    below = [p for p in dash["panels"] if p["type"] != "row" and p["gridPos"]["y"] > board_row["gridPos"]["y"]
             and not any(r["gridPos"]["y"] > board_row["gridPos"]["y"] and p["gridPos"]["y"] > r["gridPos"]["y"]
                         for r in rows)]
    exprs = " ".join(t["expr"] for p in below for t in p["targets"])
    for needle in ("by (grpc_service)", "grpc_server_handling_seconds_bucket", "coop_worker_handler_calls_total",
                   "coop_outbox_pending", "coop_board_sitting_directors", "coop_board_vacant_seats",
                   "coop_board_observer_seats_taken"):
        assert needle in exprs, f"the board row lacks {needle}"
    assert all('service="board"' in t["expr"] or "coop_board_" in t["expr"] for p in below for t in p["targets"])


def test_grafana_dashboard():
    dashboards = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))
    assert dashboards
    ds = yaml.safe_load(
        (DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )
    ds_uid = ds["datasources"][0]["uid"]
    used: set[str] = set()
    for path in dashboards:
        dash = json.loads(path.read_text())
        assert dash["uid"] and dash["title"]
        panels = [p for p in dash["panels"] if p["type"] != "row"]
        ids = [p["id"] for p in dash["panels"]]
        assert len(ids) == len(set(ids)), f"{path.name}: duplicate panel ids"
        for p in panels:
            assert p["datasource"]["uid"] == ds_uid, p["title"]
            assert p["targets"], p["title"]
            for t in p["targets"]:
                _check_promql(t["expr"], f"{path.name} panel {p['title']!r}")
                used |= _metric_names(t["expr"])[0]
        for var in dash.get("templating", {}).get("list", []):
            if var["type"] == "query":
                q = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
                _check_promql(q, f"{path.name} variable {var['name']}")
    required = KNOWN_METRICS - {
        "grpc_server_started_total",
        "grpc_server_handling_seconds_sum",
        "grpc_server_handling_seconds_count",
    }
    assert required <= used, f"dashboard lacks panels for {required - used}"


# ------------------------------------------------------------------ the board


def test_board_documents_are_on_a_volume_at_the_documents_dir_in_compose(compose):
    """The dossiers' documents outlive the containers: a named volume, mounted in the board's api
    and worker where COOP_BOARD_DOCUMENTS_DIR says, and the image owns that (empty) folder so that
    a new volume starts writable by uid 10001 on a read-only root."""
    services = compose["services"]
    paths = set()
    for name in ("board-api", "board-worker"):
        path = services[name]["environment"]["COOP_BOARD_DOCUMENTS_DIR"]
        assert f"board-documents:{path}" in services[name]["volumes"], name
        paths.add(path)
    assert paths == {"/var/lib/coopgov/board/documents"}
    assert "board-documents" in compose["volumes"]
    assert not [n for n, s in services.items() if not n.startswith("board-")
                and any(str(v).startswith("board-documents:") for v in s.get("volumes", []))]
    dockerfile = (DEPLOY / "docker" / "Dockerfile").read_text()
    assert "install -d -o 10001 -g 10001 -m 0750 /var/lib/coopgov/board/documents" in dockerfile


@pytest.mark.parametrize("overlay, access", [("dev", "ReadWriteOnce"), ("production", "ReadWriteMany")])
def test_board_documents_are_on_a_pvc_at_the_documents_dir_in_k8s(rendered, overlay, access):
    docs = rendered[overlay]
    (claim,) = _by_kind(docs, "PersistentVolumeClaim").values()
    assert claim["metadata"]["name"] == "board-documents"
    assert claim["spec"]["accessModes"] == [access]
    path = _check_config_maps(docs, ["board"])["board"]["COOP_BOARD_DOCUMENTS_DIR"]
    deployments = _by_kind(docs, "Deployment")
    for name in ("board-api", "board-worker"):
        pod = deployments[name]["spec"]["template"]["spec"]
        (volume,) = [v for v in pod["volumes"] if "persistentVolumeClaim" in v]
        assert volume["persistentVolumeClaim"]["claimName"] == "board-documents"
        (main,) = pod["containers"]
        assert {"name": volume["name"], "mountPath": path} in main["volumeMounts"], name
        assert pod["securityContext"]["fsGroup"] == 10001, f"{name}: the volume's files are the pod's group's"
    others = [d["metadata"]["name"] for d in _by_kind(docs, "Deployment").values()
              if not d["metadata"]["name"].startswith("board-")
              and any("persistentVolumeClaim" in v for v in d["spec"]["template"]["spec"]["volumes"])]
    assert not others
