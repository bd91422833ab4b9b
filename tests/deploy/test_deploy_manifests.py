"""Offline checks of the deployment artefacts (DESIGN D7, D8).

No Docker engine or cluster is needed: the Compose file is validated against
the Compose specification, kustomizations are rendered with `kubectl kustomize`
and validated with kubernetes-validate, Prometheus config and alert rules go
through promtool (including rule unit tests), and the Grafana dashboard is
parsed and its queries checked against the metric names the code exports.

kubectl and promtool come from scripts/ensure_tools.sh (run once per session).
A missing tool fails the tests; set COOP_SKIP_DEPLOY_TOOLS=1 to skip the
tests that need them instead (and not run the installer).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE_FILE = ROOT / "docker-compose.yml"
PROM_DIR = DEPLOY / "prometheus"
K8S = DEPLOY / "k8s"
K8S_VERSION = "1.30.0"  # oldest version we support; native gRPC probes are GA since 1.27

# Services deployed today: name -> (grpc port, api metrics port, worker metrics port).
# TODO(board_meetings, notifications): add (50054, 9104, 9204) / (50055, 9105, 9205)
# here once their deploy blocks exist.
SERVICES = {
    "membership": (50051, 9101, 9201),
    "billing": (50052, 9102, 9202),
    "elections": (50053, 9103, 9203),
}
ALL_DATABASES = {"membership", "billing", "elections", "board_meetings", "notifications"}

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


# --------------------------------------------------------------------- tools


def _venv_tool(name: str) -> str:
    """Console scripts installed in the venv running pytest (check-jsonschema, ...)."""
    candidate = Path(sys.executable).parent / name
    found = str(candidate) if candidate.exists() else shutil.which(name)
    if not found:
        pytest.fail(
            f"{name} is not installed in {sys.prefix}; run `make venv` (it is a dev dependency)"
        )
    return found


@pytest.fixture(scope="session")
def deploy_tools() -> dict[str, str]:
    """kubectl and promtool, installed by scripts/ensure_tools.sh if missing."""
    if os.environ.get("COOP_SKIP_DEPLOY_TOOLS") == "1":
        pytest.skip("COOP_SKIP_DEPLOY_TOOLS=1: skipping checks that need kubectl/promtool")
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "ensure_tools.sh")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    tools = {name: shutil.which(name) for name in ("kubectl", "promtool")}
    missing = [name for name, path in tools.items() if not path]
    if missing:
        pytest.fail(
            f"deploy validation tools missing: {', '.join(missing)}.\n"
            f"scripts/ensure_tools.sh said:\n{proc.stdout}{proc.stderr}\n"
            "Install them (as root: bash scripts/ensure_tools.sh) or set "
            "COOP_SKIP_DEPLOY_TOOLS=1 to skip these checks.",
            pytrace=False,
        )
    return tools  # type: ignore[return-value]


def run(cmd: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (
        f"`{' '.join(cmd)}` exited {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    )
    return proc


# ------------------------------------------------------------------- compose


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def _is_our_image(svc: dict) -> bool:
    return "build" in svc or str(svc.get("image", "")).startswith(("coopgov", "${COOP_IMAGE"))


def _active(compose: dict, profile: str) -> set[str]:
    return {
        name
        for name, svc in compose["services"].items()
        if not svc.get("profiles") or profile in svc["profiles"]
    }


def _depends_on(svc: dict) -> dict[str, dict]:
    dep = svc.get("depends_on", {})
    return {d: {"condition": "service_started"} for d in dep} if isinstance(dep, list) else dep


def test_compose_matches_compose_spec():
    run(
        [
            _venv_tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.compose-spec",
            str(COMPOSE_FILE),
        ]
    )


def test_compose_our_services_have_healthcheck_or_are_one_shot_migrations(compose):
    ours = {n: s for n, s in compose["services"].items() if _is_our_image(s)}
    assert len(ours) == 3 * len(SERVICES) + 1  # and broker-setup (tests/deploy/test_broker_deploy.py)
    for name, svc in ours.items():
        if name.endswith("-migrate") or name == "broker-setup":
            assert svc["command"][:2] == (["coop", "migrate"] if name != "broker-setup" else ["coop", "broker"]), name
            assert svc.get("restart") == "no", f"{name} must be one-shot"
            assert "healthcheck" not in svc, name
        else:
            hc = svc.get("healthcheck")
            assert hc and not hc.get("disable") and hc.get("test"), f"{name} has no healthcheck"
        assert svc.get("read_only") is True, f"{name} should run with a read-only root filesystem"


def test_compose_api_and_worker_wait_for_migrations_and_infra(compose):
    services = compose["services"]
    for svc_name, (grpc, api_metrics, worker_metrics) in SERVICES.items():
        migrate = services[f"{svc_name}-migrate"]
        assert migrate["command"] == ["coop", "migrate", svc_name]
        assert _depends_on(migrate)["postgres"]["condition"] == "service_healthy"
        for role, metrics in (("api", api_metrics), ("worker", worker_metrics)):
            svc = services[f"{svc_name}-{role}"]
            deps = _depends_on(svc)
            assert (
                deps.get(f"{svc_name}-migrate", {}).get("condition")
                == "service_completed_successfully"
            ), f"{svc_name}-{role} must wait for {svc_name}-migrate to complete"
            assert deps["postgres"]["condition"] == "service_healthy"
            assert deps["rabbitmq"]["condition"] == "service_healthy"
            env = svc["environment"]
            module = "grpc_api" if role == "api" else "worker"
            assert svc["command"] == ["python", "-m", f"coop_{svc_name}.entrypoints.{module}"]
            assert env["COOP_SERVICE_NAME"] == svc_name
            assert env["COOP_METRICS_PORT"] == str(metrics)
            assert env["COOP_DATABASE_URL"] == (
                f"postgresql+psycopg2://{svc_name}:{svc_name}@postgres:5432/{svc_name}"
            )
            for key in ("COOP_AMQP_URL", "COOP_JWT_SECRET", "COOP_LOG_LEVEL"):
                assert key in env, f"{svc_name}-{role} lacks {key}"
            if role == "api":
                assert env["COOP_GRPC_PORT"] == str(grpc)
                assert env["COOP_GRPC_HOST"] == "0.0.0.0"
                assert str(grpc) in " ".join(svc["healthcheck"]["test"])
            else:
                assert f":{metrics}/metrics" in " ".join(svc["healthcheck"]["test"])


def test_compose_profiles(compose):
    services = compose["services"]
    assert all(s.get("profiles") for s in services.values()), "every service needs a profile"
    full = _active(compose, "full")
    assert full == set(services) - {"prometheus-elections"}
    standalone = _active(compose, "elections-standalone")
    assert standalone == {
        "broker-setup",
        "rabbitmq",
        "postgres",
        "elections-migrate",
        "elections-api",
        "elections-worker",
        "prometheus-elections",
    }
    assert not [n for n in standalone if n.startswith(("membership", "billing", "grafana"))]
    # Each profile is closed under depends_on, so `--profile X up` starts cleanly.
    for active in (full, standalone):
        for name in active:
            missing = set(_depends_on(services[name])) - active
            assert not missing, f"{name} depends on {missing}, outside its profile"


def test_compose_infra_files(compose):
    services = compose["services"]
    assert services["rabbitmq"]["image"].startswith("rabbitmq:3.13-management")
    plugins = (DEPLOY / "rabbitmq" / "enabled_plugins").read_text()
    assert "rabbitmq_prometheus" in plugins and plugins.strip().endswith("].")
    assert any("enabled_plugins" in v for v in services["rabbitmq"]["volumes"])
    assert "15692:15692" in services["rabbitmq"]["ports"]
    assert services["postgres"]["image"] == "postgres:16"
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
    dev_sql = (K8S / "overlays" / "dev" / "01-create-service-databases.sql").read_text()
    assert set(re.findall(r"CREATE DATABASE (\w+)", dev_sql)) == ALL_DATABASES
    run(["bash", "-n", str(init)])
    for name in ("prometheus", "prometheus-elections", "grafana"):
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


def test_prometheus_scrapes_every_metrics_port(compose):
    full = _scrape_targets(PROM_DIR / "prometheus.yml")
    standalone = _scrape_targets(PROM_DIR / "prometheus-elections.yml")
    for name, svc in compose["services"].items():
        port = (
            svc.get("environment", {}).get("COOP_METRICS_PORT")
            if isinstance(svc.get("environment"), dict)
            else None
        )
        if port:
            assert f"{name}:{port}" in full, f"prometheus.yml does not scrape {name}:{port}"
            if "elections-standalone" in svc["profiles"]:
                assert f"{name}:{port}" in standalone
    assert "rabbitmq:15692" in full and "rabbitmq:15692" in standalone
    assert not [t for t in standalone if t.startswith(("membership", "billing"))]


def test_dockerfile_conventions():
    text = (DEPLOY / "docker" / "Dockerfile").read_text()
    assert "python:3.11-slim" in text
    assert re.search(r"^USER 10001", text, re.M)
    assert (
        "python -m grpc_tools.protoc -Iproto --python_out=gen --pyi_out=gen --grpc_python_out=gen"
    ) in text
    assert "rm -f gen/__init__.py" in text and "pip install ." in text


# ---------------------------------------------------------------- kubernetes


def _render(overlay: str, tools: dict[str, str], tmp_path_factory) -> list[dict]:
    out = run([tools["kubectl"], "kustomize", str(K8S / "overlays" / overlay)]).stdout
    rendered = tmp_path_factory.mktemp("k8s") / f"{overlay}.yaml"
    rendered.write_text(out)
    run(
        [_venv_tool("kubernetes-validate"), "-k", K8S_VERSION, "--strict", "--quiet", str(rendered)]
    )
    return [d for d in yaml.safe_load_all(out) if d]


@pytest.fixture(scope="module")
def dev(deploy_tools, tmp_path_factory) -> list[dict]:
    return _render("dev", deploy_tools, tmp_path_factory)


@pytest.fixture(scope="module")
def partner(deploy_tools, tmp_path_factory) -> list[dict]:
    return _render("partner-elections", deploy_tools, tmp_path_factory)


def _by_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def _check_workload(dep: dict, service: str, role: str) -> None:
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
        assert {"name": "tmp", "mountPath": "/tmp"} in c["volumeMounts"], (
            f"{name}/{c['name']}: /tmp"
        )
        refs = {next(iter(e.values()))["name"].rsplit("-", 1)[0] for e in c["envFrom"]}
        assert refs == {f"coop-{service}-config", f"coop-{service}-secrets"}, name
    (main,) = pod["containers"]
    grpc, api_metrics, worker_metrics = SERVICES[service]
    env = {e["name"]: e.get("value") for e in main.get("env", [])}
    if role == "api":
        assert main["command"] == ["python", "-m", f"coop_{service}.entrypoints.grpc_api"]
        assert env["COOP_GRPC_PORT"] == str(grpc) and env["COOP_METRICS_PORT"] == str(api_metrics)
        assert env["COOP_GRPC_HOST"] == "0.0.0.0"
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            assert main[probe]["grpc"]["port"] == grpc, f"{name}: native gRPC {probe}"
    else:
        assert main["command"] == ["python", "-m", f"coop_{service}.entrypoints.worker"]
        assert env["COOP_METRICS_PORT"] == str(worker_metrics)
        assert main["readinessProbe"]["httpGet"]["port"] == "metrics"


def _check_references_resolve(docs: list[dict]) -> None:
    """Every ConfigMap/Secret a pod uses is in the render (hash suffixes applied)."""
    present = {(d["kind"], d["metadata"]["name"]) for d in docs}
    for d in docs:
        if d["kind"] not in ("Deployment", "StatefulSet"):
            continue
        pod = d["spec"]["template"]["spec"]
        for c in pod.get("initContainers", []) + pod["containers"]:
            for e in c.get("envFrom", []):
                if "configMapRef" in e:
                    assert ("ConfigMap", e["configMapRef"]["name"]) in present
                if "secretRef" in e:
                    assert ("Secret", e["secretRef"]["name"]) in present
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ("Secret", ref["name"]) in present
        for v in pod.get("volumes", []):
            if "configMap" in v:
                assert ("ConfigMap", v["configMap"]["name"]) in present


def test_k8s_dev_overlay(dev):
    deployments = _by_kind(dev, "Deployment")
    assert set(deployments) == {f"{s}-{r}" for s in SERVICES for r in ("api", "worker")}
    for service in SERVICES:
        for role in ("api", "worker"):
            _check_workload(deployments[f"{service}-{role}"], service, role)
        svc = _by_kind(dev, "Service")[f"{service}-api"]
        assert svc["spec"]["ports"][0]["port"] == SERVICES[service][0]
    assert set(_by_kind(dev, "StatefulSet")) == {"rabbitmq", "postgres"}
    assert {"rabbitmq", "postgres"} <= set(_by_kind(dev, "Service"))
    namespaced = [d for d in dev if d["kind"] != "Namespace"]
    assert {d["metadata"].get("namespace") for d in namespaced} == {"coopgov-dev"}
    _check_references_resolve(dev)


def test_k8s_partner_overlay_is_elections_only(partner):
    workloads = [
        d
        for d in partner
        if d["kind"] in ("Deployment", "StatefulSet", "Job", "CronJob", "DaemonSet")
    ]
    assert sorted(d["metadata"]["name"] for d in workloads) == ["elections-api", "elections-worker"]
    for d in workloads:
        _check_workload(d, "elections", d["metadata"]["name"].split("-")[1])
    (ns,) = _by_kind(partner, "Namespace")
    assert ns == "coopgov-elections"
    assert {d["metadata"].get("namespace") for d in partner if d["kind"] != "Namespace"} == {ns}
    for d in partner:
        text = json.dumps(d)
        assert "membership" not in text and "billing" not in text, d["metadata"]["name"]
    _check_references_resolve(partner)


# ---------------------------------------------------------------- prometheus


@pytest.mark.parametrize("config", ["prometheus.yml", "prometheus-elections.yml"])
def test_promtool_check_config(deploy_tools, config):
    out = run([deploy_tools["promtool"], "check", "config", config], cwd=PROM_DIR).stdout
    assert "1 rule files found" in out, out  # rule_files resolved to alerts.yml


def test_promtool_check_rules(deploy_tools):
    run([deploy_tools["promtool"], "check", "rules", "alerts.yml"], cwd=PROM_DIR)


def test_promtool_rule_unit_tests(deploy_tools):
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
    ):
        assert needle in exprs, f"no alert on {needle}"
    for r in rules:
        _check_promql(r["expr"], f"alert {r['alert']}")
    tested = set(re.findall(r"alertname: (\w+)", (PROM_DIR / "alerts_test.yml").read_text()))
    assert len(tested) >= 2


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
