"""Thin adapters from HTTP, WebSocket and RabbitMQ to the use cases."""
