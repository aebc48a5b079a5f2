"""Where the Ray backend runs: a local Ray instance it starts (and shuts down), or a cluster it joins.

* No address: ``ray.init`` starts a local instance sized to this machine (``os.cpu_count()`` CPUs, no
  dashboard) and Serve with no HTTP proxy (the driver talks to replicas through DeploymentHandles);
  :meth:`RayRuntime.stop` shuts Serve and Ray down, which ends every Ray process it started (also when the
  run ends by Ctrl-C or SIGTERM: the run path drains, then closes the backend).
* ``address`` (``auto``, ``HOST:PORT`` or ``ray://HOST:10001``): joins that cluster; on stop only this run's
  applications are deleted and the cluster keeps running.

``ray.init`` installs its own SIGINT/SIGTERM handlers in the driver; the ones in place before (``serve``'s
graceful stop) are put back, so a signal still ends the run by draining it. Ray's services are started
with SIGINT ignored, so a Ctrl-C sent to the whole process group (a terminal) reaches only the driver.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from typing import Any

from ipa_energy.errors import BackendError


class RayRuntime:
    def __init__(self, address: str | None = None, *, num_cpus: int | None = None) -> None:
        self.address = address
        self.num_cpus = num_cpus
        self.owned = False
        self.started = False
        self._stdout_fd: int | None = None

    def _stdout_to_stderr(self) -> None:
        """While Ray runs, file descriptor 1 points at stderr: Ray's core prints its own messages (e.g.
        "(raylet) Task ... failed" at shutdown) on the driver's stdout, which would corrupt ``--json``."""
        if self._stdout_fd is None:
            sys.stdout.flush()
            self._stdout_fd = os.dup(1)
            os.dup2(2, 1)

    def _restore_stdout(self) -> None:
        if self._stdout_fd is not None:
            sys.stdout.flush()
            os.dup2(self._stdout_fd, 1)
            os.close(self._stdout_fd)
            self._stdout_fd = None

    def start(self) -> None:
        try:
            import ray
            from ray import serve
        except ImportError as e:  # pragma: no cover - the extra is missing
            raise BackendError('the ray backend needs Ray Serve: pip install "ipa-energy[ray]"') from e
        self._stdout_to_stderr()
        handlers = _current_handlers()
        if handlers:
            # Ray's services (gcs, raylet) start in this process group: a Ctrl-C in the terminal reaches
            # them too. Started with SIGINT ignored (inherited across exec), they outlive it, and the run
            # drains and shuts them down itself.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            if self.address:
                ray.init(address=self.address, log_to_driver=False)
            else:
                ray.init(num_cpus=self.num_cpus or os.cpu_count() or 1, include_dashboard=False,
                         log_to_driver=False, configure_logging=False)
                self.owned = True
            self.started = True
            if self.owned:
                serve.start(proxy_location="Disabled")
            else:
                serve.start()
        except Exception as e:
            self.stop()
            where = f"address {self.address}" if self.address else "local instance"
            raise BackendError(f"could not start Ray Serve ({where}): {type(e).__name__}: {e}") from e
        finally:
            _restore_handlers(handlers)

    def client(self) -> Any:
        from ray.serve.context import _get_global_client

        return _get_global_client()

    def stop(self, app_names: list[str] | None = None) -> None:
        """Shut down what this runtime started (idempotent); on a joined cluster delete ``app_names``."""
        if not self.started:
            self._restore_stdout()
            return
        import ray
        from ray import serve

        self.started = False
        if self.owned:
            with contextlib.suppress(Exception):
                serve.shutdown()
            ray.shutdown()
            time.sleep(0.5)  # Ray's last shutdown messages still land on stderr
        else:
            if app_names:
                with contextlib.suppress(Exception):
                    self.client().delete_apps(app_names, blocking=True)
            ray.shutdown()  # disconnects this driver; the cluster keeps running
        self._restore_stdout()


def _current_handlers() -> dict[int, Any]:
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}


def _restore_handlers(handlers: dict[int, Any]) -> None:
    for s, h in handlers.items():
        if h is not None:
            signal.signal(s, h)


__all__ = ["RayRuntime"]
