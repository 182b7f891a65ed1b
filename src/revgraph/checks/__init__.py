"""What is wrong: one module per family of rules; pure (snapshots in, findings out)."""
