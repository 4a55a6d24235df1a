"""Scoring of transcribed answers: which answers may be scored, runs, scores and bands."""
