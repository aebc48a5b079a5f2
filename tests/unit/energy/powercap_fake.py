"""Builds fake powercap trees for tests (a directory per zone, like sysfs)."""

from __future__ import annotations

from pathlib import Path

MAX_RANGE_UJ = 262_143_328_850


def add_zone(
    root: Path, dirname: str, name: str, energy_uj: int = 0, max_range_uj: int = MAX_RANGE_UJ,
    max_power_uw: int | None = None,
) -> Path:
    d = root / dirname
    d.mkdir(parents=True, exist_ok=True)
    (d / "name").write_text(name + "\n")
    (d / "energy_uj").write_text(f"{energy_uj}\n")
    (d / "max_energy_range_uj").write_text(f"{max_range_uj}\n")
    if max_power_uw is not None:
        (d / "constraint_0_max_power_uw").write_text(f"{max_power_uw}\n")
    return d


def set_energy(root: Path, dirname: str, energy_uj: int) -> None:
    (root / dirname / "energy_uj").write_text(f"{energy_uj}\n")


def intel_two_sockets(root: Path) -> Path:
    """Two packages with core/uncore/dram, psys, and an MMIO duplicate of package-0."""
    (root / "intel-rapl").mkdir(parents=True)  # the control type: no counter
    (root / "intel-rapl" / "enabled").write_text("1\n")
    for p in (0, 1):
        add_zone(root, f"intel-rapl:{p}", f"package-{p}", max_power_uw=150_000_000)
        add_zone(root, f"intel-rapl:{p}:0", "core")
        add_zone(root, f"intel-rapl:{p}:1", "uncore")
        add_zone(root, f"intel-rapl:{p}:2", "dram", max_range_uj=65_712_999_613)
    add_zone(root, "intel-rapl:2", "psys")
    add_zone(root, "intel-rapl-mmio:0", "package-0")
    return root
