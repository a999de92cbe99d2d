"""Seed data sets (the Chaonan demo)."""
