"""Assistline webhook-svc: signed CloudEvents webhooks."""
