from __future__ import annotations

import pytest

from ipa_energy.energy.cputime import MachineCpuTime, ProcessCpuTime, children_of, read_process_cpu_s
from ipa_energy.errors import MeterUnavailable


def write_stat(root, user, nice, system, idle, iowait, irq, softirq, steal=0):
    (root / "stat").write_text(f"cpu  {user} {nice} {system} {idle} {iowait} {irq} {softirq} {steal} 0 0\n"
                               "cpu0 1 2 3 4 5 6 7 8 0 0\nintr 12345 0 0\n")


def write_pid(root, pid, ppid, utime, stime, cutime=0, cstime=0, comm="py (worker) x"):
    d = root / str(pid)
    d.mkdir(exist_ok=True)
    rest = ["S", str(ppid)] + ["0"] * 9 + [str(utime), str(stime), str(cutime), str(cstime)] + ["0"] * 30
    (d / "stat").write_text(f"{pid} ({comm}) " + " ".join(rest) + "\n")


def test_machine_busy_time_by_hand(tmp_path):
    write_stat(tmp_path, 100, 10, 50, 1000, 30, 5, 5, steal=40)
    m = MachineCpuTime(tmp_path, ticks_per_s=100)
    assert m.busy_core_s() == pytest.approx((100 + 10 + 50 + 5 + 5) / 100)  # idle, iowait, steal excluded
    write_stat(tmp_path, 300, 10, 50, 1000, 30, 5, 5)
    assert m.busy_core_s() == pytest.approx(3.7)  # re-read through the kept descriptor
    m.close()


def test_machine_bad_file(tmp_path):
    (tmp_path / "stat").write_text("garbage\n")
    with pytest.raises(MeterUnavailable, match="aggregate 'cpu' line"):
        MachineCpuTime(tmp_path)
    with pytest.raises(MeterUnavailable, match="cannot read"):
        MachineCpuTime(tmp_path / "none")


def test_processes_with_descendants_and_exit(tmp_path):
    write_pid(tmp_path, 10, 1, 200, 100, cutime=50, cstime=50)  # the parent: waited children included
    write_pid(tmp_path, 11, 10, 30, 10)  # a live child: its own time only
    write_pid(tmp_path, 12, 11, 5, 5)  # a grandchild
    assert children_of([10], tmp_path) == {11, 12}
    assert read_process_cpu_s(10, tmp_path, ticks_per_s=100) == pytest.approx(4.0)
    p = ProcessCpuTime([10], tmp_path, ticks_per_s=100)
    assert p.busy_core_s() == pytest.approx(4.0 + 0.4 + 0.1)
    (tmp_path / "12" / "stat").unlink()  # the grandchild exits: its last value is kept
    assert p.busy_core_s() == pytest.approx(4.5)
    with pytest.raises(MeterUnavailable, match="none of the processes"):
        ProcessCpuTime([99], tmp_path)
