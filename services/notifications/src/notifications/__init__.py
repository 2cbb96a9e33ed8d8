"""Notifications service: tells the members of one node what happened, by e-mail and in-app."""
