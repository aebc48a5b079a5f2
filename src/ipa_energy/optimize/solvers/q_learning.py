"""Tabular Q-learning over pipeline configurations (the energy extension's Algorithm 1, done properly).

A heuristic: it may return a feasible but sub-optimal answer, or miss feasibility; it answers None
(infeasible) only when it visited no feasible state. docs/q_learning.md holds the measured quality.

* **State**: per stage ``(variant, batch, extra replicas)``, where extra replicas = replicas minus the
  smallest count that sustains the rate (:func:`~ipa_energy.optimize.problem.min_replicas`). Keyed this
  way a state keeps its meaning when the load changes ("just enough replicas of yolov5s at batch 4"), so
  the Q-table learned at one rate is a warm start at the next. Negative extra = under-provisioned.
  A stage with fixed_replicas holds 0 there (meaning the fixed count, which may not sustain the rate).
* **Actions**: per stage, switch to any other allowed variant (keeping the batch, or the nearest
  profiled one); change the batch to any other profiled size of the variant (a jump, not only the
  neighbouring size: shorter paths, same reachable set); add or remove one replica (absolute replicas
  stay within 1..max_replicas; at a limit the state is unchanged; no replica actions with
  fixed_replicas); plus one "keep the configuration" action. A variant or batch switch keeps the extra
  replicas (the controller rescales with the switch), clamped to 1..max_replicas. fixed_variant /
  fixed_batch remove the corresponding actions.
* **Reward** of entering a state: the problem's own objective (``objective_of`` on the options of the
  state, with its actual replicas, so extra replicas pay their cores and idle power) when it meets the
  SLA (integer ticks), the rate and the budgets; otherwise ``violation_reward`` (-1000), or, when a
  feasible objective could be under -1000 (large cost weights), a lower bound of the objective - 1000.
* **Learning**: epsilon-greedy; epsilon from 1.0 decayed after episode k as
  ``epsilon = max(0.01, epsilon * exp(-0.001 * k))``; learning rate 0.1; discount 0.9. Each episode
  starts from the start state (this instance's previous answer when the pipeline is the same, else the
  fastest sustainable configuration) and ends after ``steps_per_episode`` steps or when a greedy step
  keeps the configuration.
* **Initial Q-values** (``initial_q="best"``): a new row starts at V_best = (best objective seen so far
  in this call) / (1 - discount), the value of keeping the best known configuration forever (before any
  feasible state is seen, a lower bound of the objective). Untried actions thus look as good as the best
  known configuration: optimism relative to what is known, which keeps the greedy phase (epsilon is
  0.01 after ~100 episodes) exploring. ``initial_q="zero"`` is the textbook choice, kept for the
  ablation in benchmarks/q_learning_quality.py. A relative 1e-9 random jitter breaks ties at random.
* **Answer**: the policy is extracted by following arg-max actions from the start state until it keeps
  the configuration (or cycles); the answer is the better (by exact objective) of that state and the
  best feasible state seen while learning. :attr:`QLearningSolver.last_report` says which one won, so
  the quality of the learned policy alone stays measurable.

The Q-table lives on the instance (no global state) and is kept across :meth:`solve` calls while the
pipeline structure (stages, variants, batches, fixed_*) stays the same; :meth:`reset` drops it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ipa_energy.errors import ConfigError
from ipa_energy.optimize.problem import (
    BUDGET_RTOL,
    Option,
    Problem,
    latency_ticks_within,
    min_replicas,
)
from ipa_energy.optimize.solvers.base import Solver
from ipa_energy.rules import stage_power_w

State = tuple[int, ...]  # (variant index, batch, extra replicas) per stage, flattened
Local = tuple[int, int, int]  # one stage's part of a state
InitialQ = Literal["best", "zero"]


@dataclass(frozen=True)
class QLearningReport:
    """What one :meth:`QLearningSolver.solve` call did (objectives are exact; None = infeasible)."""

    episodes: int
    steps: int
    #: distinct states whose reward was computed in this call
    states_visited: int
    #: states in the persistent Q-table after the call
    q_table_states: int
    #: whether the Q-table held entries from earlier calls when this one started
    warm: bool
    start_objective: float | None
    policy_objective: float | None
    best_seen_objective: float | None
    #: "policy" (the greedy rollout's state), "best-seen" (a better state seen while learning) or "none"
    returned: str


@dataclass(frozen=True)
class _Cell:
    """One (variant, batch) of a stage at the call's rate."""

    name: str
    n_min: int
    ticks: int
    latency_s: float
    accuracy: float
    cores_per_replica: int
    rate_rps: float
    energy_j_per_batch: float
    batch: int

    def power_w(self, cores: float, idle_power_w_per_core: float) -> float:
        """This cell's stage power with ``cores`` allocated (the one formula, :func:`stage_power_w`)."""
        return stage_power_w(cores, idle_power_w_per_core, self.rate_rps, self.energy_j_per_batch, self.batch)


class _Model:
    """Per-call tables: cells; stage-part successors and evaluations, and rewards, memoised."""

    def __init__(self, problem: Problem, violation_reward: float) -> None:
        self.problem = problem
        lam = problem.arrival_rate
        self.cells: list[dict[tuple[int, int], _Cell]] = []
        self.batches: list[dict[int, tuple[int, ...]]] = []  # per stage: allowed variant -> batches
        self.fixed_n = [st.fixed_replicas for st in problem.stages]
        for stage in problem.stages:
            cells: dict[tuple[int, int], _Cell] = {}
            batches: dict[int, tuple[int, ...]] = {}
            for vi, v in enumerate(stage.variants):
                if stage.fixed_variant is not None and v.name != stage.fixed_variant:
                    continue
                for p in v.profile:
                    if stage.fixed_batch is not None and p.batch != stage.fixed_batch:
                        continue
                    lat = p.latency_s + (p.batch - 1) / lam
                    ticks = latency_ticks_within(lat, problem)  # None: alone over the SLA, never feasible
                    cells[vi, p.batch] = _Cell(
                        v.name, min_replicas(lam, p.batch, p.latency_s),
                        problem.sla_ticks + 1 if ticks is None else ticks, lat, v.accuracy,
                        v.cores, lam, p.energy_j, p.batch,
                    )
                    batches[vi] = (*batches.get(vi, ()), p.batch)
            self.cells.append(cells)
            self.batches.append({vi: tuple(sorted(bs)) for vi, bs in batches.items()})
        self.any_cells = all(self.cells)
        self.max_n = problem.max_replicas
        self.product = problem.accuracy_method == "product"
        self.violation = violation_reward
        if self.any_cells:
            lower = self.objective_lower_bound()
            if lower <= violation_reward:  # a feasible state could score under the penalty: push it lower
                self.violation = lower + violation_reward
        self._local_succ: list[dict[Local, list[Local]]] = [{} for _ in self.cells]
        self._local_eval: list[dict[Local, tuple[bool, int, float, float, int, float]]] = [
            {} for _ in self.cells
        ]
        # per stage: variant -> number of stage actions (other variants, other batches, +/- replica)
        self.n_local = [
            {
                vi: len(bs) - 1 + len(self.batches[s]) - 1 + (2 if self.fixed_n[s] is None else 0)
                for vi, bs in self.batches[s].items()
            }
            for s in range(len(self.cells))
        ]
        self.sla_ticks = problem.sla_ticks
        self.rewards: dict[State, float] = {}
        self.best: State | None = None
        self.best_objective = -math.inf

    def objective_lower_bound(self) -> float:
        """No feasible state's objective is below this (worst accuracies, most replicas everywhere)."""
        p, w = self.problem, self.problem.weights
        accs = [min(c.accuracy for c in cells.values()) for cells in self.cells]
        pas = math.prod(accs) if self.product else math.fsum(accs)
        worst = 0.0
        for s, cells in enumerate(self.cells):
            n = self.fixed_n[s] or self.max_n
            worst += max(
                w.cost * n * c.cores_per_replica + w.batch * b
                + w.energy * c.power_w(n * c.cores_per_replica, p.idle_power_w_per_core)
                for (_, b), c in cells.items()
            )
        return w.accuracy * pas - worst

    # -- moves -----------------------------------------------------------------------------------------
    def _place(self, s: int, vi: int, b: int, extra: int) -> Local:
        """Stage ``s`` switched to (vi, b), keeping ``extra`` replicas within the replica limits."""
        if self.fixed_n[s] is not None:
            return vi, b, 0
        n_min = self.cells[s][vi, b].n_min
        return vi, b, min(max(n_min + extra, 1), self.max_n) - n_min

    def start_state(self) -> State:
        """Per stage the fastest (variant, batch) the replica limits can sustain, just enough replicas."""
        out: list[int] = []
        for s, cells in enumerate(self.cells):
            cap = self.fixed_n[s] or self.max_n
            ok = [k for k, c in cells.items() if c.n_min <= cap] or list(cells)
            vi, b = min(ok, key=lambda k: (cells[k].ticks, k))
            out.extend(self._place(s, vi, b, 0))
        return tuple(out)

    def normalise(self, state: State) -> State | None:
        """A state from an earlier call (e.g. the previous answer) at this call's rate and limits.

        None when it names a (variant, batch) this problem does not allow.
        """
        if len(state) != 3 * len(self.cells):
            return None
        out: list[int] = []
        for s, cells in enumerate(self.cells):
            vi, b, extra = state[3 * s : 3 * s + 3]
            if (vi, b) not in cells:
                return None
            out.extend(self._place(s, vi, b, extra))
        return tuple(out)

    def _local_successors(self, s: int, loc: Local) -> list[Local]:
        out = self._local_succ[s].get(loc)
        if out is not None:
            return out
        vi, b, extra = loc
        out = []
        for vj, bs in self.batches[s].items():
            if vj != vi:
                bj = b if b in bs else min(bs, key=lambda x: (abs(x - b), x))
                out.append(self._place(s, vj, bj, extra))
        out.extend(self._place(s, vi, bj, extra) for bj in self.batches[s][vi] if bj != b)
        if self.fixed_n[s] is None:
            n = self.cells[s][vi, b].n_min + extra
            out.append((vi, b, extra + 1) if n < self.max_n else loc)
            out.append((vi, b, extra - 1) if n > 1 else loc)
        self._local_succ[s][loc] = out
        return out

    def n_actions(self, state: State) -> int:
        """How many actions a state has (its Q-row length); the last one is "keep"."""
        return 1 + sum(self.n_local[s][state[3 * s]] for s in range(len(self.cells)))

    def step(self, state: State, action: int) -> State:
        """The state an action leads to. Actions are numbered stage by stage in a fixed order
        (variant switches, batch changes, +1 / -1 replica), then "keep"."""
        for s, n_local in enumerate(self.n_local):
            i = 3 * s
            k = n_local[state[i]]
            if action < k:
                loc: Local = (state[i], state[i + 1], state[i + 2])
                return state[:i] + self._local_successors(s, loc)[action] + state[i + 3 :]
            action -= k
        return state

    # -- evaluation ------------------------------------------------------------------------------------
    def _local(self, s: int, loc: Local) -> tuple[bool, int, float, float, int, float]:
        """(sustains the rate, ticks, accuracy, penalty, cores, power_w) of one stage part."""
        out = self._local_eval[s].get(loc)
        if out is None:
            p, w = self.problem, self.problem.weights
            vi, b, extra = loc
            c = self.cells[s][vi, b]
            n = self.replicas(s, loc)
            cores = n * c.cores_per_replica
            power_w = c.power_w(cores, p.idle_power_w_per_core)
            penalty = w.cost * cores + w.batch * b + w.energy * power_w
            out = (n >= c.n_min, c.ticks, c.accuracy, penalty, cores, power_w)
            self._local_eval[s][loc] = out
        return out

    def replicas(self, s: int, loc: Local) -> int:
        """Absolute replicas of a stage part (the fixed count, or just enough plus the extra)."""
        fixed = self.fixed_n[s]
        return fixed if fixed is not None else self.cells[s][loc[0], loc[1]].n_min + loc[2]

    def objective(self, state: State) -> float | None:
        """The state's objective, or None when it violates the rate, the SLA or a budget."""
        p = self.problem
        ticks = cores = 0
        acc = 1.0 if self.product else 0.0
        penalty = power = 0.0
        for s in range(len(self.cells)):
            i = 3 * s
            ok, t, a, pen, k, pw = self._local(s, (state[i], state[i + 1], state[i + 2]))
            if not ok:
                return None
            ticks += t
            acc = acc * a if self.product else acc + a
            penalty += pen
            cores += k
            power += pw
        if ticks > self.sla_ticks or (p.max_cores is not None and cores > p.max_cores):
            return None
        if p.max_power_w is not None and power > p.max_power_w * (1 + BUDGET_RTOL) + 1e-12:
            return None
        return p.weights.accuracy * acc - penalty

    def reward(self, state: State) -> float:
        r = self.rewards.get(state)
        if r is None:
            obj = self.objective(state)
            r = self.violation if obj is None else obj
            if obj is not None and obj > self.best_objective:
                self.best, self.best_objective = state, obj
            self.rewards[state] = r
        return r

    def options(self, state: State) -> list[Option]:
        p, w = self.problem, self.problem.weights
        out = []
        for s, cells in enumerate(self.cells):
            vi, b, extra = state[3 * s : 3 * s + 3]
            c = cells[vi, b]
            n = self.replicas(s, (vi, b, extra))
            cores = n * c.cores_per_replica
            power_w = c.power_w(cores, p.idle_power_w_per_core)
            penalty = w.cost * cores + w.batch * b + w.energy * power_w
            out.append(Option(s, c.name, b, n, c.accuracy, cores, c.latency_s, c.ticks, power_w, penalty))
        return out


def _signature(problem: Problem) -> tuple[object, ...]:
    """What the Q-table's keys mean: stages, variants, batches and the fixed_* constraints."""
    return tuple(
        (
            st.name, st.fixed_variant, st.fixed_batch, st.fixed_replicas,
            tuple((v.name, tuple(p.batch for p in v.profile)) for v in st.variants),
        )
        for st in problem.stages
    )


class QLearningSolver(Solver):
    """Tabular epsilon-greedy Q-learning; the Q-table persists across calls (warm start).

    ``episodes`` and ``steps_per_episode`` set the budget of a cold call; ``warm_episodes`` (default:
    ``episodes``) the budget of a call that starts with a Q-table learned on the same pipeline.
    ``seed`` seeds the instance's random stream (continued across calls).
    """

    name = "q-learning"

    def __init__(
        self,
        *,
        episodes: int = 600,
        steps_per_episode: int = 40,
        warm_episodes: int | None = None,
        learning_rate: float = 0.1,
        discount: float = 0.9,
        epsilon_start: float = 1.0,
        epsilon_min: float = 0.01,
        epsilon_decay: float = 0.001,
        violation_reward: float = -1000.0,
        initial_q: InitialQ = "best",
        seed: int = 0,
    ) -> None:
        for field, value in (("episodes", episodes), ("steps_per_episode", steps_per_episode)):
            if value < 1:
                raise ConfigError(f"must be >= 1, got {value}", field=field)
        if warm_episodes is not None and warm_episodes < 1:
            raise ConfigError(f"must be >= 1, got {warm_episodes}", field="warm_episodes")
        if not 0 < learning_rate <= 1:
            raise ConfigError(f"must be in (0, 1], got {learning_rate}", field="learning_rate")
        if not 0 <= discount < 1:
            raise ConfigError(f"must be in [0, 1), got {discount}", field="discount")
        if not 0 <= epsilon_min <= epsilon_start <= 1:
            raise ConfigError(
                f"need 0 <= epsilon_min <= epsilon_start <= 1, got {epsilon_min} and {epsilon_start}",
                field="epsilon_start",
            )
        if epsilon_decay < 0:
            raise ConfigError(f"must be >= 0, got {epsilon_decay}", field="epsilon_decay")
        if violation_reward >= 0:
            raise ConfigError(f"must be negative, got {violation_reward}", field="violation_reward")
        if initial_q not in ("best", "zero"):
            raise ConfigError(f"must be 'best' or 'zero', got {initial_q!r}", field="initial_q")
        self.episodes = episodes
        self.steps_per_episode = steps_per_episode
        self.warm_episodes = warm_episodes if warm_episodes is not None else episodes
        self.learning_rate = learning_rate
        self.discount = discount
        self.epsilon_start = epsilon_start
        self.epsilon_min = epsilon_min
        self.epsilon_decay = epsilon_decay
        self.violation_reward = violation_reward
        self.initial_q: InitialQ = initial_q
        self.seed = seed
        self._rng = random.Random(seed)
        self._q: dict[State, list[float]] = {}
        self._signature: tuple[object, ...] | None = None
        self._previous: State | None = None
        self.last_report: QLearningReport | None = None

    def reset(self) -> None:
        """Forget the Q-table and the previous answer (the random stream continues)."""
        self._q = {}
        self._signature = None
        self._previous = None

    @property
    def q_table_states(self) -> int:
        """States held in the persistent Q-table."""
        return len(self._q)

    def _choose(self, problem: Problem) -> Sequence[Option] | None:
        sig = _signature(problem)
        if sig != self._signature:
            self.reset()
            self._signature = sig
        model = _Model(problem, self.violation_reward)
        if not model.any_cells:
            self._previous = None
            self.last_report = QLearningReport(0, 0, 0, len(self._q), False, None, None, None, "none")
            return None
        warm = bool(self._q)
        start = model.normalise(self._previous) if self._previous is not None else None
        if start is None:
            start = model.start_state()
        model.reward(start)
        episodes = self.warm_episodes if warm else self.episodes
        steps = self._learn(model, start, episodes)
        policy_state = self._rollout(model, start)
        policy_objective = model.objective(policy_state)
        best: State | None = model.best
        if best is None:
            returned = "none"
        elif policy_objective is not None and policy_objective >= model.best_objective:
            best, returned = policy_state, "policy"
        else:
            returned = "best-seen"
        self._previous = best
        self.last_report = QLearningReport(
            episodes, steps, len(model.rewards), len(self._q), warm, model.objective(start),
            policy_objective, model.best_objective if best is not None else None, returned,
        )
        return None if best is None else model.options(best)

    def _learn(self, model: _Model, start: State, episodes: int) -> int:
        """Run the episodes; returns the number of steps taken. The hot loop uses locals only."""
        q_table, rnd, randrange = self._q, self._rng.random, self._rng.randrange
        rewards, reward, step, n_actions = model.rewards, model.reward, model.step, model.n_actions
        alpha, gamma, steps_per_episode = self.learning_rate, self.discount, self.steps_per_episode
        eps, eps_min, decay = self.epsilon_start, self.epsilon_min, self.epsilon_decay
        best_init = self.initial_q == "best"
        floor_q = model.objective_lower_bound() / (1 - gamma)
        jitter: dict[int, list[list[float]]] = {}  # row length -> 64 random tie-breaking offsets

        def new_row(state: State) -> list[float]:
            q0 = 0.0
            if best_init:
                q0 = model.best_objective / (1 - gamma) if model.best is not None else floor_q
            n = n_actions(state)
            pool = jitter.get(n)
            if pool is None:
                pool = jitter[n] = [[rnd() for _ in range(n)] for _ in range(64)]
            scale = 1e-9 * max(1.0, abs(q0))
            row = [q0 + scale * j for j in pool[randrange(64)]]
            q_table[state] = row
            return row

        total = 0
        for episode in range(1, episodes + 1):
            s = start
            for _ in range(steps_per_episode):
                qs = q_table.get(s) or new_row(s)
                last = len(qs) - 1
                explore = rnd() < eps
                a = randrange(last + 1) if explore else qs.index(max(qs))
                s2 = s if a == last else step(s, a)
                r = rewards.get(s2)
                if r is None:
                    r = reward(s2)
                q2 = q_table.get(s2) or new_row(s2)
                qs[a] += alpha * (r + gamma * max(q2) - qs[a])
                total += 1
                if a == last and not explore:
                    break  # a greedy "keep": the episode has reached its fixed point
                s = s2
            eps = max(eps_min, eps * math.exp(-decay * episode))
        return total

    def _rollout(self, model: _Model, start: State) -> State:
        """Follow arg-max actions from ``start`` until the policy keeps the configuration or cycles."""
        s, seen = start, {start}
        for _ in range(self.steps_per_episode):
            qs = self._q.get(s)
            if qs is None:
                break
            s2 = model.step(s, qs.index(max(qs)))
            model.reward(s2)
            if s2 in seen:
                return s2
            seen.add(s2)
            s = s2
        return s
