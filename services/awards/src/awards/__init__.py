"""Awards service: eligibility facts (and, later, schemes and nominations) of one node."""
