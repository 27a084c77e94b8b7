"""Thin adapters from HTTP, WebSocket and AMQP to the handlers."""
