"""What to do about it: plans (rebase.py, merge.py) and the one writer (apply.py)."""
