"""The run path: one function turns a run spec and a backend into a finished, recorded run.

``simulate``, ``serve``, ``bench`` and every benchmark call :func:`execute`; none wires its own run.
Layer: above ``adapt`` and ``backends``, below ``bench`` and ``cli``.
"""

from ipa_energy.runs.run import RunHooks, RunResult, execute
from ipa_energy.runs.spec import RunSpec

__all__ = ["RunHooks", "RunResult", "RunSpec", "execute"]
