"""State changes of the POS core, one module per concept. Import from the concept module."""
