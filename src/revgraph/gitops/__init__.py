"""What touches git beyond reading: merge state, staging, install, the merge driver."""
