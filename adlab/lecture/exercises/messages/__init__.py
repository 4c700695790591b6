"""One catalogue of exercise messages per language: ``MESSAGES`` in ``<lang>.py``."""
