"""Command groups kept out of cli.py so they can grow separately.

Each module exposes ``register(app: typer.Typer) -> None`` that adds its
commands; they reach the global options through ``revgraph.cli.state()``.
"""
