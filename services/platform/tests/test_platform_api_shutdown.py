"""An api process stops in bounded time (coop_platform.supervisor): a stop asked during start-up
is kept until the process waits for it, and a shutdown step that hangs ends with the process
exiting by itself, saying so, rather than keeping `make run` or a pod waiting."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from coop_testkit import REPO_ROOT, free_port

PROGRAM = """
import os, signal, sys, time
from coop_platform.supervisor import stop_signals, wait_for_signal
stop = stop_signals()
print("started", flush=True)
if sys.argv[1] == "early":
    os.kill(os.getpid(), signal.SIGTERM)  # during start-up, before anything waits for it
    time.sleep(0.2)
else:
    sys.stdin.readline()                  # the test sends the signal
wait_for_signal(stop)
print("stopping", flush=True)
time.sleep(float(sys.argv[2]))            # a shutdown step that takes this long
print("stopped", flush=True)
"""


def _run(mode: str, step_seconds: float, deadline: str) -> subprocess.CompletedProcess:
    proc = subprocess.Popen([sys.executable, "-c", PROGRAM, mode, str(step_seconds)], cwd=REPO_ROOT, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "COOP_SHUTDOWN_DEADLINE_SECONDS": deadline})
    assert proc.stdout.readline().strip() == "started"
    if mode == "late":
        proc.send_signal(signal.SIGINT)
        proc.stdin.write("\n")
        proc.stdin.flush()
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_a_signal_during_start_up_is_a_stop_asked_not_an_interrupted_start():
    done = _run("early", 0.0, "10")
    assert (done.returncode, done.stdout.split()) == (0, ["stopping", "stopped"]), done.stderr
    assert "Traceback" not in done.stderr


def test_a_shutdown_that_hangs_ends_at_the_deadline_with_a_clear_line():
    started = time.monotonic()
    done = _run("late", 30.0, "1")
    assert time.monotonic() - started < 15
    assert done.returncode == 1 and done.stdout.split() == ["stopping"]
    assert "shutdown did not finish within 1 s: exiting now" in done.stderr


def test_a_shutdown_within_the_deadline_ends_normally():
    done = _run("late", 0.2, "10")
    assert (done.returncode, done.stdout.split()) == (0, ["stopping", "stopped"]), done.stderr


CHECKING_API = """
import threading, time
from coop_platform.config import load_settings
from coop_platform.grpc_server import serve_forever
from coop_platform.processes import LazyProcessPool

pool = LazyProcessPool(2)
checks = []

def register(server):
    def check():  # a request's check of minutes, still running when the stop comes
        try:
            pool.map(time.sleep, [600])
        except Exception as exc:
            print(f"check ended: {type(exc).__name__}", flush=True)
    checks.append(threading.Thread(target=check, daemon=True))
    checks[0].start()
    return []

serve_forever(load_settings("membership", "api"), register, None)
checks[0].join(timeout=30)  # its line first: the two threads' prints must not interleave
print("exited", flush=True)
"""


def test_a_stop_ends_a_check_running_in_the_apis_pool_instead_of_waiting_for_it(tmp_path):
    env = {**os.environ, "COOP_DATA_DIR": str(tmp_path), "COOP_DEV_MODE": "1", "COOP_GRPC_PORT": str(free_port()),
           "COOP_METRICS_PORT": str(free_port()), "COOP_SHUTDOWN_DEADLINE_SECONDS": "600"}
    proc = subprocess.Popen([sys.executable, "-c", CHECKING_API], cwd=REPO_ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        assert "gRPC on" in proc.stdout.readline()
        time.sleep(3)  # the pool's workers are spawned and sleeping
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=120)  # without terminate_pools: the 600 s sleep, then the deadline
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the api and its pool's workers
    assert proc.returncode == 0, out
    assert out.split("\n")[:2] == ["check ended: BrokenProcessPool", "exited"], out
