"""Enrollment service: orgs, members, programmes and enrollments of one node."""
