"""HTTP routes, one module per resource. Routes open the session and call a use case."""
