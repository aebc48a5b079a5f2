"""The ``ipa-energy`` command line: one module per command group."""
