"""Bots as separate processes: `vecinos run` and the bare nio bot, each with its own RSS.

A child's stderr goes to a log file; it is "ready" once a known line shows up there
(`vecinos run` logs "Vecinos is running" after its first sync, `bench.nio_bot` prints
"ready" after its own).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.common import BotFiles
from bot.devtools.local_synapse import RegisteredUser

READY_TIMEOUT = 300.0
STOP_TIMEOUT = 30.0
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Memory:
    """Resident set size now and at its peak (VmHWM), in MB (10^6 bytes)."""

    rss_mb: float
    peak_mb: float


class Child:
    """One process, started and stopped as often as wanted, logging to `log`."""

    def __init__(self, name: str, command: Sequence[str], log: Path, ready_line: str) -> None:
        self.name = name
        self.command = list(command)
        self.log = log
        self.ready_line = ready_line
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0  # perf_counter of the last start
        self._log_offset = 0

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, "already running"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self._log_offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as log:
            self.started_at = time.perf_counter()
            self.process = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    async def wait_ready(self, seconds: float = READY_TIMEOUT) -> float:
        """Until this start's log has the ready line; seconds since the start."""
        try:
            async with asyncio.timeout(seconds):
                while self.ready_line not in self._new_log():
                    if self.process is None or self.process.poll() is not None:
                        raise RuntimeError(f"{self.name} exited:\n{self._new_log()[-3000:]}")
                    await asyncio.sleep(POLL_SECONDS)
        except TimeoutError:
            raise TimeoutError(f"{self.name} not ready after {seconds:.0f}s") from None
        return time.perf_counter() - self.started_at

    async def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            await asyncio.to_thread(process.wait, STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)

    def memory(self) -> Memory:
        """From /proc/PID/status (Linux)."""
        fields = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            fields[name] = value.split()
        # /proc counts in kB of 1024 bytes.
        return Memory(int(fields["VmRSS"][0]) * 1.024e-3, int(fields["VmHWM"][0]) * 1.024e-3)

    def cpu_seconds(self) -> float:
        """User plus system CPU seconds so far (Linux)."""
        stat = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")

    def warnings(self, limit: int = 20) -> list[str]:
        """Distinct WARNING and ERROR lines of this start's log, and the outbox's retries
        (nio's key-share notes left out), without their time stamps."""
        seen: dict[str, None] = {}
        for line in self._new_log().splitlines():
            notable = " WARNING " in line or " ERROR " in line or " bot.outbox: " in line
            if notable and "Missing session" not in line:
                seen.setdefault(line.split(" ", 2)[-1][:300])
        return list(seen)[:limit]

    def _new_log(self) -> str:
        with self.log.open("rb") as log:
            log.seek(self._log_offset)
            return log.read().decode(errors="replace")


def vecinos_process(files: BotFiles) -> Child:
    """`python -m bot run -c CONFIG`, exactly what an operator runs."""
    config, _key = files.write()
    command = [sys.executable, "-m", "bot", "run", "-c", str(config)]
    return Child("vecinos", command, files.directory / "bot.log", "Vecinos is running")


def nio_process(base_url: str, user: RegisteredUser, directory: Path) -> Child:
    """The bare matrix-nio bot (`bench.nio_bot`), logged in as `user`."""
    directory.mkdir(parents=True, exist_ok=True)
    password = directory / "password"
    password.write_text(user.password)
    password.chmod(0o600)
    command = [
        sys.executable,
        "-m",
        "bench.nio_bot",
        "--homeserver",
        base_url,
        "--user",
        user.user_id,
        "--password-file",
        str(password),
        "--store",
        str(directory / "store"),
    ]
    return Child("nio bot", command, directory / "nio_bot.log", "ready")


async def measure_memory(child: Child, seconds: float) -> Memory:
    """The highest RSS seen over `seconds` of sampling, and the peak so far."""
    highest = 0.0
    deadline = time.perf_counter() + seconds
    while True:
        memory = child.memory()
        highest = max(highest, memory.rss_mb)
        if time.perf_counter() >= deadline:
            return Memory(highest, memory.peak_mb)
        await asyncio.sleep(0.25)
