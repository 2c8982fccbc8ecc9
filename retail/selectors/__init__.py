"""Reads of the POS core, one module per area. Modules here may register CSV export kinds
(posbackoffice.exports.REGISTRY); RetailConfig.ready() imports them all so web and worker know every kind."""
