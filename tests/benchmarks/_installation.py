"""The production layout on loopback, shared by ``make soak`` and ``make bench``'s load run:
PostgreSQL, Redis, an S3 server (moto) and the cloud SMS vendor's fake; the database upgraded
with the demo packs applied; two ``govhall serve``, two ``govhall worker`` and a
``govhall scheduler`` as real processes, each logging beside the others in ``GOVHALL_VAR_DIR``.

Importing this module sets the environment those processes share (a data key, a secret key,
S3 credentials for moto), so import it before anything reads the settings."""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("GOVHALL_VAR_DIR", tempfile.mkdtemp(prefix="govhall-hall-"))
os.environ.setdefault("GOVHALL_ARGON2_PROFILE", "test")
os.environ.setdefault("GOVHALL_OUTBOUND_ALLOW_PRIVATE", "1")  # vendors' fakes on loopback
os.environ.setdefault(
    "GOVHALL_DATA_KEY", base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
)
os.environ.setdefault("GOVHALL_SECRET_KEY", secrets.token_urlsafe(32))
for _name, _value in (
    ("AWS_ACCESS_KEY_ID", "soak"),
    ("AWS_SECRET_ACCESS_KEY", "soak"),
    ("AWS_DEFAULT_REGION", "us-east-1"),
):
    os.environ.setdefault(_name, _value)

import httpx  # noqa: E402

from tests.fakes import CloudSms  # noqa: E402
from tests.faults.test_processes import Process  # noqa: E402
from tests.servers import PostgresServer, RedisServer, S3Server, free_port, wait_for  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
GOVHALL = str(Path(sys.executable).parent / "govhall")
#: where the govhall processes come from: "wheel" (default) — the project built as a wheel and
#: installed alone in a fresh virtual environment, as a deployment installs it (without the
#: test and benchmark packages, some of which the web process would load: pydantic, gevent);
#: "venv" — this checkout's own environment (quicker to start; PYTHONTRACEMALLOC and friends)
FROM = os.environ.get("GOVHALL_BENCH_FROM", "wheel")


def production_govhall(tmp: Path) -> str:
    """``govhall`` from the wheel of the tracked files, installed in a fresh venv under
    ``tmp`` (about a minute: the build, then pip from the package index)."""
    import subprocess

    from tests.packaging.test_wheel import _clean_checkout, _outside_env

    source = tmp / "wheel-source"
    shutil.rmtree(source, ignore_errors=True)
    source.mkdir(parents=True)
    _clean_checkout(source)
    env = _outside_env(tmp / "wheel-var")
    dist = tmp / "dist"
    log = (tmp / "wheel.log").open("ab")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(source)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        check=True,
        timeout=600,
    )
    (wheel,) = sorted(dist.glob("govhall-*.whl"), key=lambda w: w.stat().st_mtime)[-1:]
    base = Path(getattr(sys, "_base_executable", sys.executable))
    venv = tmp / "venv"
    subprocess.run([str(base), "-m", "venv", "--clear", str(venv)], check=True, timeout=300)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", str(wheel)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        check=True,
        timeout=900,
    )
    return str(venv / "bin" / "govhall")


class Installation:
    """The servers, the database with the demo packs, and the govhall processes."""

    def __init__(
        self, tmp: Path, database: str = "govhall_soak", web_env: dict[str, str] | None = None
    ) -> None:
        self.tmp = tmp
        #: set for the web processes only (PYTHONTRACEMALLOC=1 to see what grows)
        self.web_env = web_env or {}
        self.pg, self.redis, self.s3 = PostgresServer(), RedisServer(), S3Server()
        self.cloud = CloudSms()
        self.bucket = "govhall-soak"
        self.database_name = database
        self.processes: list[Process] = []
        self.workers: list[Process] = []
        self.ports: list[int] = []
        # each server picked a free port when made, none bound yet: no two may pick the same
        taken = {self.pg.port, self.redis.port}
        while self.s3.port in taken or len(taken) < 2:
            self.s3, self.redis = S3Server(), RedisServer()
            taken = {self.pg.port, self.redis.port}
        taken.add(self.s3.port)
        while len(self.ports) < 2:
            if (port := free_port()) not in taken:
                self.ports.append(port)
                taken.add(port)
        self.env: dict[str, str] = {}
        self.database: Any = None
        self.command = GOVHALL

    @property
    def webs(self) -> list[Process]:
        """The two web processes (started first)."""
        return self.processes[: len(self.ports)]

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    def start(self) -> Installation:
        import boto3

        if FROM == "wheel":
            self.command = production_govhall(self.tmp)
            print(f"govhall processes from the wheel: {self.command}", flush=True)
        self.pg.start()
        self.redis.start()
        self.s3.start()
        self.cloud.start()
        boto3.client("s3", endpoint_url=self.s3.url).create_bucket(Bucket=self.bucket)
        url = self.pg.create_database(self.database_name)
        self.env = {
            **os.environ,
            "GOVHALL_DATABASE_URL": url,
            "GOVHALL_REDIS_URL": self.redis.url,
            "GOVHALL_STORAGE_URL": f"s3://{self.bucket}",
            "GOVHALL_S3_ENDPOINT_URL": self.s3.url,
            "GOVHALL_VAR_DIR": str(self.tmp),
            "GOVHALL_SCHEDULER_INTERVAL": "10",
        }
        os.environ.update(self.env)  # this process reads the same database and bucket
        for args in (["db", "upgrade"], ["tenants", "apply", str(ROOT / "tenants")]):
            setup = Process(args, self.env, self.tmp / "setup.log", self.command).start()
            assert setup.proc is not None
            if setup.proc.wait(600) != 0:
                raise RuntimeError(f"govhall {args[0]} failed: see {self.tmp / 'setup.log'}")
        from core.db import Database
        from core.effects import install

        install()
        self.database = Database(url)
        self._send_sms_through_the_cloud_fake()
        for port in self.ports:
            serve = ["serve", "--host", "127.0.0.1", "--port", str(port)]
            self._spawn(serve, f"web-{port}", self.web_env)
        for _ in range(2):
            self.workers.append(self._spawn(["worker", "--threads", "2"], "worker"))
        self._spawn(["scheduler"], "scheduler")
        for url in self.urls:
            wait_for(_healthy(f"{url}/healthz"), timeout=60, what="serve")
        return self

    def _spawn(self, args: list[str], name: str, env: dict[str, str] | None = None) -> Process:
        log = self.tmp / f"{name}-{len(self.processes)}.log"
        process = Process(args, {**self.env, **(env or {})}, log, self.command).start()
        self.processes.append(process)
        return process

    def _send_sms_through_the_cloud_fake(self) -> None:
        from core.notify.sms import DEFAULT_TEMPLATES
        from core.plugins import get_plugin_manager
        from core.tenancy import get_tenant_by_slug, scope_for

        with self.database.session(scope=None) as s:
            hechi = get_tenant_by_slug(s, "hechi")
        config = {
            "endpoint": self.cloud.url,
            "access_key_id": self.cloud.key,
            "access_key_secret": self.cloud.secret,
            "template_codes": {name: f"SMS_{i:04d}" for i, name in enumerate(DEFAULT_TEMPLATES)},
            "timeout_seconds": 15,
        }
        manager = get_plugin_manager()
        with self.database.session(scope=scope_for(hechi)) as s:
            manager.set_enabled(s, hechi, "sms_console", False)
            manager.set_enabled(s, hechi, "sms_cloud", True, config)
            s.commit()

    def citizens(self, count: int) -> list[str]:
        """``count`` citizens of Guangxi with a token each."""
        from core.identity import AccountKind
        from core.identity.service import create_account
        from core.tenancy import get_tenant_by_slug, scope_for
        from tests.helpers import account_token

        with self.database.session(scope=None) as s:
            hechi = get_tenant_by_slug(s, "hechi")
        phones = [f"1370000{n:04d}" for n in range(count)]
        with self.database.session(scope=scope_for(hechi)) as s:
            for n, phone in enumerate(phones):
                create_account(
                    s, hechi, kind=AccountKind.citizen, name=f"压测居民{n + 1:02d}", phone=phone
                )
            s.commit()
        return [account_token(self.database, "hechi", phone) for phone in phones]

    def web_memory(self) -> list[float]:
        """Resident memory of each web process still running, in MB."""
        from tests.benchmarks.memory import rss_mb

        return [
            rss_mb(web.proc.pid)
            for web in self.webs
            if web.proc is not None and web.proc.poll() is None
        ]

    def stop(self) -> None:
        for process in self.processes:
            process.stop()
        for server in (self.cloud, self.s3, self.redis, self.pg):
            try:
                server.stop()
            except Exception as exc:  # keep stopping the others
                print(f"could not stop {type(server).__name__}: {exc}", file=sys.stderr)
        if self.database is not None:
            self.database.dispose()


def _healthy(url: str) -> Any:
    def check() -> bool:
        try:
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    return check
