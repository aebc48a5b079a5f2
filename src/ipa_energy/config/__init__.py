"""Typed, validated configuration: loading YAML/JSON into pydantic models with errors naming the field."""

from ipa_energy.config.validation import StrictModel, load_mapping, parse_model

__all__ = ["StrictModel", "load_mapping", "parse_model"]
