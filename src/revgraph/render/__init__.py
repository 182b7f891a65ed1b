"""How to show it: pure functions from findings/graphs to str/bytes."""
