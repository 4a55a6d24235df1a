"""Scoring of transcribed answers: redaction of personal data before any feature is computed.

A pure library: it knows nothing of the web service, the database or the job queue.
"""

from models.scoring.features import Answer
from models.scoring.redaction import REPLACEMENTS, RedactedText, Redaction, redact

__all__ = ["REPLACEMENTS", "Answer", "RedactedText", "Redaction", "redact"]
