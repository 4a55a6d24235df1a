"""Fairness monitoring: candidates' voluntary self-identification and the adverse-impact report."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["fairness"])
