"""What every stage stands on: settings, the database, errors, the audit chain, notices, conversations,
people, stages and deadlines, dates, hand-offs between stages and the reminder engine.

Import its modules (`from workflows.core import audit, stages`); core imports no stage package."""
