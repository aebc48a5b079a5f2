"""Process hygiene shared by every child this package starts (bench pool workers, serving replicas):
a child never outlives its parent, even when the parent is killed with SIGKILL."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time

#: prctl option: the signal the kernel sends this process when its parent thread exits (Linux)
_PR_SET_PDEATHSIG = 1


def die_with_parent(poll_s: float = 1.0) -> None:
    """Call first thing in a child process. On Linux the kernel sends SIGKILL when the parent dies
    (``prctl(PR_SET_PDEATHSIG)``); elsewhere, or if prctl is unavailable, a daemon thread polls
    ``getppid`` every ``poll_s`` seconds and exits when the parent is gone. A parent that died before
    this call is caught by the check that follows it."""
    parent = os.getppid()
    armed = False
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
    if not armed:
        def watch() -> None:
            while True:
                time.sleep(poll_s)
                if os.getppid() != parent:
                    os._exit(1)

        threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


__all__ = ["die_with_parent"]
