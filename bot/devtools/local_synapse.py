"""A throwaway Synapse homeserver on loopback, for tests, `vecinos demo` and benchmarks.

Synchronous on purpose (subprocess + urllib) so it works from sync pytest fixtures,
CLI code and benchmark scripts alike. Needs the `matrix-synapse` package in the
same interpreter (it is a dev dependency).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

# Effectively "no limit": tests and benchmarks fan out far faster than a human.
_UNLIMITED = {"per_second": 9999, "burst_count": 9999}

# Every rate limiter Synapse 1.163 reads from config (synapse/config/ratelimiting.py),
# except rc_federation, which has a different shape (see _FEDERATION).
_RATE_LIMITS: dict[str, Any] = {
    "rc_message": _UNLIMITED,
    "rc_registration": _UNLIMITED,
    "rc_registration_token_validity": _UNLIMITED,
    "rc_login": {"address": _UNLIMITED, "account": _UNLIMITED, "failed_attempts": _UNLIMITED},
    "rc_admin_redaction": _UNLIMITED,
    "rc_joins": {"local": _UNLIMITED, "remote": _UNLIMITED},
    "rc_joins_per_room": _UNLIMITED,
    "rc_key_requests": _UNLIMITED,
    "rc_3pid_validation": _UNLIMITED,
    "rc_invites": {"per_room": _UNLIMITED, "per_user": _UNLIMITED, "per_issuer": _UNLIMITED},
    "rc_third_party_invite": _UNLIMITED,
    "rc_media_create": _UNLIMITED,
    "rc_presence": {"per_user": _UNLIMITED},
    "rc_delayed_event_mgmt": _UNLIMITED,
    "rc_room_creation": _UNLIMITED,
    "rc_reports": _UNLIMITED,
    "rc_user_directory": _UNLIMITED,
    "rc_profile": _UNLIMITED,
}

# What a federating server adds (checked 2026-12-02, Synapse 1.163): servers on loopback
# with self-signed certificates, fetching each other's keys directly.
_FEDERATION: dict[str, Any] = {
    "federation_verify_certificates": False,
    "ip_range_whitelist": ["127.0.0.0/8"],
    "rc_federation": {
        "window_size": 1000,
        "sleep_limit": 1000,
        "sleep_delay": 1,
        "reject_limit": 10000,
        "concurrent": 1000,
    },
}

_STOP_GRACE_SECONDS = 10.0
_POLL_SECONDS = 0.05
_HTTP_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class RegisteredUser:
    user_id: str
    password: str
    access_token: str
    device_id: str


class SynapseHTTPError(RuntimeError):
    """A non-2xx answer from the homeserver; `body` is the decoded JSON error."""

    def __init__(self, method: str, path: str, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{method} {path} -> HTTP {status}: {body}")
        self.status = status
        self.body = body

    @property
    def errcode(self) -> str | None:
        code = self.body.get("errcode")
        return code if isinstance(code, str) else None


class LocalSynapse:
    """One Synapse process with SQLite storage, all state under `workdir`.

    `federating=True` makes it a server others on loopback can federate with: its name is
    then `localhost:PORT` (an explicit port: no SRV or .well-known look-up), with a second
    listener on that port serving federation over TLS with a self-signed certificate.
    """

    def __init__(
        self, workdir: Path, server_name: str = "localhost", *, federating: bool = False
    ) -> None:
        self._workdir = Path(workdir)
        self._server_name = server_name
        self._federating = federating
        self._federation_port: int | None = None
        self._port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log_handle: IO[bytes] | None = None

    # -- properties ---------------------------------------------------------------

    @property
    def server_name(self) -> str:
        return self._server_name

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("LocalSynapse has not been started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def workdir(self) -> Path:
        return self._workdir

    @property
    def config_path(self) -> Path:
        return self._workdir / "homeserver.yaml"

    @property
    def signing_key_path(self) -> Path:
        return self._workdir / "signing.key"

    @property
    def process_log_path(self) -> Path:
        """stdout/stderr of the Synapse process (tracebacks on startup failures land here)."""
        return self._workdir / "synapse.out.log"

    @property
    def log_path(self) -> Path:
        """Synapse's own WARNING+ log."""
        return self._workdir / "homeserver.log"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # -- lifecycle ----------------------------------------------------------------

    def start(self, timeout: float = 60) -> None:
        """Write a fresh config on a free port, then start and wait for /health."""
        if self.running:
            raise RuntimeError("LocalSynapse is already running")
        self._workdir.mkdir(parents=True, exist_ok=True)
        self._port = _free_port()
        if self._federating:
            self._federation_port = _free_port()
            self._server_name = f"localhost:{self._federation_port}"
            _write_certificate(self._workdir / "tls.crt", self._workdir / "tls.key")
        self._write_config()
        self._write_signing_key()
        self._spawn()
        self._wait_healthy(timeout)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if Synapse has not exited after a grace period."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(_STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log_handle is not None:
            self._log_handle.close()
            self._log_handle = None

    def restart(self, timeout: float = 60) -> None:
        """Stop and start again with the same port, config and database."""
        if self._port is None:
            raise RuntimeError("LocalSynapse has not been started")
        self.stop()
        self._spawn()
        self._wait_healthy(timeout)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- admin helpers ------------------------------------------------------------

    def register(self, localpart: str, password: str, admin: bool = False) -> RegisteredUser:
        """Create a user through the shared-secret registration admin API."""
        path = "/_synapse/admin/v1/register"
        nonce = str(self.admin_request("GET", path)["nonce"])
        mac = _registration_mac(self._shared_secret(), nonce, localpart, password, admin)
        body = {
            "nonce": nonce,
            "username": localpart,
            "password": password,
            "admin": admin,
            "mac": mac,
        }
        answer = self.admin_request("POST", path, body)
        return RegisteredUser(
            user_id=str(answer["user_id"]),
            password=password,
            access_token=str(answer["access_token"]),
            device_id=str(answer["device_id"]),
        )

    def admin_request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        """JSON request to `path` (absolute, e.g. /_synapse/admin/...); raises SynapseHTTPError."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=_HTTP_TIMEOUT_SECONDS) as response:
                return _decode_json(response.read())
        except urllib.error.HTTPError as err:
            raise SynapseHTTPError(method, path, err.code, _decode_json(err.read())) from None

    def override_ratelimit(
        self,
        user_id: str,
        messages_per_second: int,
        burst_count: int,
        admin_token: str,
    ) -> dict[str, Any]:
        """Per-user message rate limit; (0, 0) means "never rate limit this user".

        Synapse's admin API only accepts non-negative ints here (1.0 or 0.5 is a 400).
        """
        body = {"messages_per_second": messages_per_second, "burst_count": burst_count}
        return self.admin_request("POST", _ratelimit_path(user_id), body, token=admin_token)

    def delete_ratelimit_override(self, user_id: str, admin_token: str) -> None:
        """Back to the server-wide rc_message limit (unlimited on this server)."""
        self.admin_request("DELETE", _ratelimit_path(user_id), token=admin_token)

    # -- internals ----------------------------------------------------------------

    def _shared_secret(self) -> str:
        config = json.loads(self.config_path.read_text())
        return str(config["registration_shared_secret"])

    def _write_config(self) -> None:
        log_config = self._workdir / "log_config.yaml"
        # JSON is valid YAML, so no YAML library is needed here.
        log_config.write_text(json.dumps(_log_config(self.log_path), indent=2))
        self.config_path.write_text(json.dumps(self._config(log_config), indent=2))

    def _config(self, log_config: Path) -> dict[str, Any]:
        config = self._base_config(log_config)
        if self._federation_port is not None:
            del config["federation_domain_whitelist"]  # federate with anyone
            config["listeners"].append(
                {
                    "port": self._federation_port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": True,
                    "x_forwarded": False,
                    "resources": [{"names": ["federation"], "compress": False}],
                }
            )
            config["tls_certificate_path"] = str(self._workdir / "tls.crt")
            config["tls_private_key_path"] = str(self._workdir / "tls.key")
            config.update(_FEDERATION)
        return config

    def _base_config(self, log_config: Path) -> dict[str, Any]:
        return {
            "server_name": self._server_name,
            "public_baseurl": f"http://127.0.0.1:{self.port}/",
            "pid_file": str(self._workdir / "homeserver.pid"),
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            "database": {
                "name": "sqlite3",
                "args": {"database": str(self._workdir / "homeserver.db")},
            },
            "log_config": str(log_config),
            "media_store_path": str(self._workdir / "media_store"),
            "signing_key_path": str(self.signing_key_path),
            "registration_shared_secret": secrets.token_hex(32),
            "macaroon_secret_key": secrets.token_hex(32),
            "form_secret": secrets.token_hex(32),
            "enable_registration": False,
            "report_stats": False,
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "federation_domain_whitelist": [],
            "bcrypt_rounds": 4,
            "presence": {"enabled": False},
            "enable_metrics": False,
            "url_preview_enabled": False,
            **_RATE_LIMITS,
        }

    def _write_signing_key(self) -> None:
        """Write Synapse's ed25519 signing key file unless it already exists.

        Same format as `synapse.app.homeserver --generate-keys` ("ed25519 <key id>
        <unpadded base64 seed>"), but running that costs a second interpreter that
        imports all of Synapse: about 2.4 s, roughly half of a fresh start.
        """
        if self.signing_key_path.exists():
            return
        seed = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        key_id = "a_" + secrets.token_hex(2)
        self.signing_key_path.write_text(f"ed25519 {key_id} {seed}\n")
        self.signing_key_path.chmod(0o600)

    def _synapse_command(self) -> list[str]:
        return [sys.executable, "-m", "synapse.app.homeserver", "-c", str(self.config_path)]

    def _spawn(self) -> None:
        self._log_handle = self.process_log_path.open("ab")
        self._process = subprocess.Popen(
            self._synapse_command(),
            cwd=self._workdir,
            stdin=subprocess.DEVNULL,
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
        )

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                self._fail("Synapse exited during startup")
            if self._health_ok():
                return
            time.sleep(_POLL_SECONDS)
        self._fail(f"Synapse did not answer /health within {timeout:.0f}s")

    def _health_ok(self) -> bool:
        try:
            with urllib.request.urlopen(self.base_url + "/health", timeout=1) as response:
                return bool(response.status == 200)
        except OSError:  # URLError, connection refused, timeouts
            return False

    def _fail(self, reason: str) -> None:
        self.stop()
        raise RuntimeError(f"{reason} (port {self._port}).\n{self._log_tail()}")

    def _log_tail(self, max_chars: int = 4000) -> str:
        parts = []
        for path in (self.process_log_path, self.log_path):
            if path.exists():
                parts.append(f"--- {path} ---\n{path.read_text(errors='replace')[-max_chars:]}")
        return "\n".join(parts) or "(no log written)"


def _write_certificate(certificate: Path, key: Path) -> None:
    """A self-signed certificate for localhost, valid two days (the servers do not check it)."""
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(private, hashes.SHA256())
    )
    certificate.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key.chmod(0o600)


def _free_port() -> int:
    # Small race (another process may take it before Synapse binds) but fine on loopback.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ratelimit_path(user_id: str) -> str:
    return f"/_synapse/admin/v1/users/{urllib.parse.quote(user_id)}/override_ratelimit"


def _registration_mac(
    shared_secret: str, nonce: str, localpart: str, password: str, admin: bool
) -> str:
    message = b"\x00".join(
        part.encode() for part in (nonce, localpart, password, "admin" if admin else "notadmin")
    )
    return hmac.new(shared_secret.encode(), message, hashlib.sha1).hexdigest()


def _decode_json(raw: bytes) -> dict[str, Any]:
    try:
        decoded = json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        return {"raw": raw.decode(errors="replace")}
    return decoded if isinstance(decoded, dict) else {"value": decoded}


def _log_config(log_file: Path) -> dict[str, Any]:
    return {
        "version": 1,
        "formatters": {
            "precise": {"format": "%(asctime)s - %(name)s - %(levelname)s - %(message)s"}
        },
        "handlers": {
            "file": {
                "class": "logging.FileHandler",
                "formatter": "precise",
                "filename": str(log_file),
                "level": "WARNING",
            }
        },
        "root": {"level": "WARNING", "handlers": ["file"]},
        "disable_existing_loggers": False,
    }
