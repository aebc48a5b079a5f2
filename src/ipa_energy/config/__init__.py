"""Typed, validated configuration: loading YAML/JSON into pydantic models with errors naming the field."""

from ipa_energy.config.validation import (
    RULES,
    StrictModel,
    check_number,
    check_output_dir,
    check_output_file,
    check_unique,
    claim_outputs,
    load_mapping,
    parse_model,
    read_text,
    safe_filename,
)

__all__ = [
    "RULES", "StrictModel", "check_number", "check_output_dir", "check_output_file", "check_unique", "claim_outputs",
    "load_mapping", "parse_model", "read_text", "safe_filename",
]
