"""OUT/.lock: one experiment writes an output folder at a time; a lock its holder left behind
(killed, crashed) is taken over."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

from simulation.config import ConfigError
from simulation.experiment_folder import utc_now


class FolderLock:
    """OUT/.lock, created with O_CREAT|O_EXCL and holding our pid: one experiment per folder.
    A lock left by a dead process on this host (killed, crashed) is taken over."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.path = out / ".lock"
        self.held = False

    def _read(self, path: Path | None = None) -> dict[str, Any] | None:
        try:
            data = json.loads((path or self.path).read_text(encoding="utf-8"))
            return data if isinstance(data, dict) and isinstance(data.get("pid"), int) else None
        except (OSError, ValueError):
            return None

    @staticmethod
    def _alive(holder: dict[str, Any]) -> bool:
        if holder.get("host") != socket.gethostname():
            return True  # cannot tell; assume it is running
        pid = holder["pid"]
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        try:  # a zombie (killed, not yet reaped) is dead
            stat = Path(f"/proc/{pid}/stat").read_text()
            return stat.rsplit(")", 1)[1].split()[0] != "Z"
        except (OSError, IndexError):
            return True

    def acquire(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        me = {"pid": os.getpid(), "host": socket.gethostname(), "started": utc_now(), "command": sys.argv}
        for _ in range(5):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = None
                for _ in range(20):  # its creator may not have written it yet
                    holder = self._read()
                    if holder is not None:
                        break
                    time.sleep(0.05)
                if holder is None:
                    try:
                        age = time.time() - self.path.stat().st_mtime
                    except FileNotFoundError:
                        continue
                    if age < 10:
                        raise self._refused("another experiment (just starting)") from None
                    holder = {"pid": -1, "host": socket.gethostname()}  # unreadable and old: stale
                elif self._alive(holder):
                    raise self._refused(
                        f"another experiment (pid {holder['pid']} on {holder.get('host')}, "
                        f"since {holder.get('started', '?')})"
                    ) from None
                # Stale: move it aside atomically, check we moved the lock we judged, then retry.
                aside = self.path.with_name(f".lock.stale.{os.getpid()}")
                try:
                    os.rename(self.path, aside)
                except FileNotFoundError:
                    continue
                moved = self._read(aside)
                if moved is not None and moved.get("pid") != holder["pid"]:
                    with contextlib.suppress(FileExistsError):  # someone else took it over meanwhile: give it back
                        os.link(aside, self.path)
                    aside.unlink(missing_ok=True)
                    raise self._refused(f"another experiment (pid {moved['pid']})") from None
                aside.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(json.dumps(me))
            self.held = True
            return
        raise self._refused("another experiment")

    def _refused(self, who: str) -> ConfigError:
        return ConfigError(
            self.out,
            "",
            f"{who} is writing this folder; wait for it to finish or choose another --out "
            f"(if none is running, remove {self.path})",
        )

    def release(self) -> None:
        if not self.held:
            return
        holder = self._read()
        if holder is not None and holder.get("pid") == os.getpid():
            self.path.unlink(missing_ok=True)
        self.held = False
