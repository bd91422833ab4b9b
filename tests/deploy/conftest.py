"""Fixtures of the offline deployment checks: the Compose files as parsed YAML, the kustomize
overlays rendered (and validated with kubernetes-validate) once per session, and the tools.

kubectl and promtool come from scripts/ensure_tools.sh (run once per session).
A missing tool fails the tests; set COOP_SKIP_DEPLOY_TOOLS=1 to skip the
tests that need them instead (and not run the installer).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
K8S_VERSION = "1.30.0"  # oldest version we support; native gRPC probes are GA since 1.27
OVERLAYS = ("dev", "production", "partner-elections")


def venv_tool(name: str) -> str:
    """Console scripts installed in the venv running pytest (check-jsonschema, ...)."""
    candidate = Path(sys.executable).parent / name
    found = str(candidate) if candidate.exists() else shutil.which(name)
    if not found:
        pytest.fail(
            f"{name} is not installed in {sys.prefix}; run `make venv` (it is a dev dependency)"
        )
    return found


def run_ok(cmd: list[str], cwd: Path = ROOT, **kwargs) -> subprocess.CompletedProcess[str]:
    """Run a command; fail the test with its output unless it exits 0."""
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, **kwargs)
    assert proc.returncode == 0, (
        f"`{' '.join(cmd)}` exited {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    )
    return proc


@pytest.fixture(scope="session")
def run() -> Callable[..., subprocess.CompletedProcess[str]]:
    return run_ok


@pytest.fixture(scope="session")
def tool() -> Callable[[str], str]:
    return venv_tool


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


@pytest.fixture(scope="session")
def compose() -> dict:
    """docker-compose.yml: the whole platform."""
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="session")
def partner_compose() -> dict:
    """docker-compose.partner-elections.yml: the elections service alone, for partners."""
    return yaml.safe_load((ROOT / "docker-compose.partner-elections.yml").read_text())


@pytest.fixture(scope="session")
def rendered(deploy_tools, tmp_path_factory) -> dict[str, list[dict]]:
    """Every overlay rendered by `kubectl kustomize` and validated by kubernetes-validate."""
    out: dict[str, list[dict]] = {}
    folder = tmp_path_factory.mktemp("k8s")
    for overlay in OVERLAYS:
        text = run_ok([deploy_tools["kubectl"], "kustomize", str(K8S / "overlays" / overlay)]).stdout
        (folder / f"{overlay}.yaml").write_text(text)
        out[overlay] = [d for d in yaml.safe_load_all(text) if d]
    run_ok([venv_tool("kubernetes-validate"), "-k", K8S_VERSION, "--strict", "--quiet",
            *(str(folder / f"{overlay}.yaml") for overlay in OVERLAYS)])
    return out


@pytest.fixture(scope="session")
def dev(rendered) -> list[dict]:
    return rendered["dev"]


@pytest.fixture(scope="session")
def production(rendered) -> list[dict]:
    return rendered["production"]


@pytest.fixture(scope="session")
def partner(rendered) -> list[dict]:
    return rendered["partner-elections"]
