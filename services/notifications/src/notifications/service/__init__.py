"""Use cases: each runs in the session it is given and never commits."""
