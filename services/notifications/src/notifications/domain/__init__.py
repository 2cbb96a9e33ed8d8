"""Rules of notifying, in plain Python: no web, database or broker imports here."""
