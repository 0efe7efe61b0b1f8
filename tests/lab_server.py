"""Start JupyterLab through a Makefile target (`make lab`, `make formgrader`) on a free port, for a test, and stop it."""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 180     # two shared cores: JupyterLab with its extensions starts in 10-40 s


@dataclass
class Server:
    url: str
    token: str
    log: Path

    def get(self, path: str) -> tuple[int, str]:
        """(HTTP status, body) of a GET with the server's token."""
        request = urllib.request.Request(self.url + path, headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def get_json(self, path: str):
        status, body = self.get(path)
        assert status == 200, f"GET {path}: {status}\n{body[:2000]}\n{self.log.read_text()[-3000:]}"
        return json.loads(body)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def make_target(target: str, log: Path, **variables: str):
    """``make TARGET`` in the repository with a free port, a token and no browser; yields a Server once
    ``/api/status`` answers, and stops the whole process group afterwards."""
    port, token = free_port(), secrets.token_hex(16)
    lab_args = f"--no-browser --ServerApp.ip=127.0.0.1 --port {port} --IdentityProvider.token={token}"
    command = ["make", "--no-print-directory", "-C", str(REPO_ROOT), target, f"LAB_ARGS={lab_args}",
               *(f"{k}={v}" for k, v in variables.items())]
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    with open(log, "w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    server = Server(f"http://127.0.0.1:{port}", token, log)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert proc.poll() is None, f"make {target} ended with {proc.returncode}:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"make {target}: no answer in {START_TIMEOUT_S} s:\n" \
                                                f"{log.read_text()[-3000:]}"
            with contextlib.suppress(OSError):
                if server.get("/api/status")[0] == 200:
                    break
            time.sleep(1)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
