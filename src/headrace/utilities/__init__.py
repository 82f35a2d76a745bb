"""Small helpers shared by every layer (logging, imports, stdout capture)."""
