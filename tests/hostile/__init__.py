"""Hostile input, git edge cases, write faults, concurrency and security (issue 9)."""
