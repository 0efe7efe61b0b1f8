"""A throwaway PostgreSQL cluster for tests: ``initdb`` + ``pg_ctl`` in a fresh temporary folder, reachable only
through a unix socket in that folder (no TCP port), stopped and deleted afterwards.

The server binaries come from Debian's ``postgresql`` package (``/usr/lib/postgresql/<version>/bin``, not on PATH;
``make postgresql`` installs it) or from PATH. PostgreSQL refuses to run as root, so as root the server runs as the
package's unprivileged ``postgres`` user, which owns the temporary folder.
"""
from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

SERVER_USER = "postgres"
INSTALL_HINT = "install Debian's postgresql package: `make postgresql` (apt-get, as root or with sudo)"


class Unavailable(RuntimeError):
    """No PostgreSQL server can be started here; the message says why and what to install."""


def server_bindir() -> Path:
    """The folder holding ``initdb`` and ``pg_ctl``: the newest Debian install, else PATH."""
    def version(p: str) -> tuple:
        return tuple(int(x) for x in re.findall(r"\d+", Path(p).parent.parent.name))

    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=version)
    candidates = [Path(debian[-1]).parent] if debian else []
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for d in candidates:
        if (d / "initdb").is_file() and (d / "pg_ctl").is_file():
            return d
    raise Unavailable(f"no PostgreSQL server binaries (initdb, pg_ctl) here; {INSTALL_HINT}")


class Cluster:
    """``with Cluster() as pg: pg.create_database("x")`` -> SQLAlchemy URL of database x on the private socket."""

    def __init__(self):
        self.bindir = server_bindir()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            try:
                self.user = pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise Unavailable(f"running as root, but there is no '{SERVER_USER}' user to run the server as; "
                                  f"{INSTALL_HINT} (its package creates the user)") from None
        self.base: Path | None = None

    # paths --------------------------------------------------------------------------------------------------
    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base / "socket"

    @property
    def log(self) -> Path:
        return self.base / "server.log"

    # lifecycle ----------------------------------------------------------------------------------------------
    def _run(self, *args: str, timeout: float = 60) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", SERVER_USER, "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=self.base)
        if proc.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.is_file() else ""
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}\n{log}")

    def start(self) -> "Cluster":
        # directly under /tmp, whatever TMPDIR says: a unix socket path has at most 107 bytes, and the server's user
        # must reach the folder (pytest's own temporary folders, like a root's TMPDIR, are root-only)
        self.base = Path(tempfile.mkdtemp(prefix="pg-test-", dir="/tmp" if os.path.isdir("/tmp") else None))
        self.socket_dir.mkdir()
        if self.as_root:
            for p in (self.base, self.socket_dir):
                os.chown(p, self.user.pw_uid, self.user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", SERVER_USER, "--auth=trust", "--encoding=UTF8",
                  "--locale=C", "--no-sync")
        options = f"-c listen_addresses='' -k {self.socket_dir} -c fsync=off -c synchronous_commit=off " \
                  f"-c full_page_writes=off -c max_connections=100"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start",
                  timeout=90)
        return self

    def stop(self) -> None:
        if self.base is None:
            return
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None

    def __enter__(self) -> "Cluster":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()

    # databases ----------------------------------------------------------------------------------------------
    def url(self, database: str) -> str:
        return f"postgresql+psycopg2://{SERVER_USER}@/{database}?host={self.socket_dir}"

    def create_database(self, name: str) -> str:
        import psycopg2

        conn = psycopg2.connect(host=str(self.socket_dir), user=SERVER_USER, dbname="postgres")
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
        return self.url(name)
