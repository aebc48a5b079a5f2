"""The real-time load generator: a workload trace replayed at wall-clock times (optionally compressed
by ``time_scale``) with seeded Poisson arrivals and real inputs from the pipeline's dataset."""

from ipa_energy.loadgen.inputs import INPUT_SOURCES, DigitsInputs, RandomImageInputs, SegmentInputs, inputs_for
from ipa_energy.loadgen.replay import Replay, replay

__all__ = ["INPUT_SOURCES", "DigitsInputs", "RandomImageInputs", "Replay", "SegmentInputs", "inputs_for", "replay"]
