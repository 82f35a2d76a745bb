"""Shared test fixtures for real components (Docker engine, image registry, base image,
an S3-compatible server). Import the fixtures you need into a test module or conftest."""
