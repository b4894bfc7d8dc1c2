"""`python -m bench [--sizes 1000,2500,5000] [--database-url URL]` — run every benchmark."""
from .reminders import main

main()
