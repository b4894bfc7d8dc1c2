"""Sample-edition steps contributed by each flow (imported by bot/sample.py)."""
