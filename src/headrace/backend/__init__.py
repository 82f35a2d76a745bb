"""Prefect 1's ``prefect.backend`` import paths that headrace keeps (``.artifacts``)."""
