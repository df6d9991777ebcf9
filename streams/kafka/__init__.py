"""Kafka clients built from the settings: admin (topics), producer, consumer."""
