"""`./dev` on a first run shows what it is doing while it installs (with a stand-in pip, so
the test installs nothing)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

FAKE_PYTHON = """#!/usr/bin/env bash
echo "fake python $*"
echo "Collecting aiohttp"
echo "Installing collected packages: aiohttp"
"""


def test_a_first_install_says_what_it_does_and_shows_pip_moving(tmp_path: Path) -> None:
    shutil.copy(ROOT / "dev", tmp_path / "dev")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name, text in (("python", FAKE_PYTHON), ("vecinos", "#!/usr/bin/env bash\necho ran\n")):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)

    result = subprocess.run(
        ["bash", "dev", "run"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "dev: installing Vecinos with its dev tools into .venv" in result.stderr
    assert "dev: installed" in result.stderr
    pip = next(line for line in result.stdout.splitlines() if line.startswith("fake python"))
    assert "--quiet" not in pip and "--progress-bar on" in pip
    assert "Collecting aiohttp" in result.stdout  # pip's lines are not swallowed
    assert result.stdout.splitlines()[-1] == "ran"

    again = subprocess.run(
        ["bash", "dev", "run"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert again.stdout == "ran\n" and again.stderr == ""  # installed: straight to the bot
