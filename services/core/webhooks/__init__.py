"""Signed webhooks to applicant tracking systems: endpoints, deliveries and their log."""
