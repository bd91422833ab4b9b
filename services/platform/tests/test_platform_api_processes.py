"""COOP_API_PROCESSES: one api per core on a shared port, metrics merged, clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from coop_testkit import free_port, wait_for_health


def test_api_runs_several_processes_on_one_port_and_merges_their_metrics(tmp_path):
    grpc_port, metrics_port = free_port(), free_port()
    env = {**os.environ, "COOP_DATA_DIR": str(tmp_path), "COOP_API_PROCESSES": "2", "COOP_DEV_MODE": "1",
           "COOP_GRPC_PORT": str(grpc_port), "COOP_METRICS_PORT": str(metrics_port)}
    proc = subprocess.Popen([sys.executable, "-m", "coop_membership.entrypoints.grpc_api"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_health(grpc_port, timeout=60)
        children = [int(p) for t in os.listdir(f"/proc/{proc.pid}/task")
                    for p in Path(f"/proc/{proc.pid}/task/{t}/children").read_text().split()]
        assert len(children) == 2
        for _ in range(10):  # spread over both processes by the kernel
            wait_for_health(grpc_port, timeout=10)
        deadline = time.monotonic() + 10
        text = ""
        while time.monotonic() < deadline and "grpc_server_handled_total" not in text:
            text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
            time.sleep(0.2)
        assert 'grpc_server_handled_total{grpc_code="OK",grpc_method="Check"' in text
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=40)
    assert proc.returncode == 0, output
    assert "2 processes" in output
    for child in children:
        stat = Path(f"/proc/{child}/stat")
        assert not stat.exists() or stat.read_text().split()[2] == "Z"
