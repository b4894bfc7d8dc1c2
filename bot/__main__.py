"""`python -m bot …` — the operator's command line."""
from .cli import main

main()
