"""Forms of the POS core, one module per area."""
