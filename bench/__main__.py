"""Run every benchmark: `python -m bench` (make bench)."""
import importlib

for name in ("bench.latency", "bench.webhook", "bench.reminders", "bench.workers", "bench.pages", "bench.faults"):
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        continue
    print(f"\n### {name}")
    module.main()
