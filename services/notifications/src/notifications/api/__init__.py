"""HTTP routes, one module per resource. Routes open the transaction and call a use case."""
