"""Remembering settings in the user's config file (``HEADRACE_CONFIG_PATH``, default
``~/.headrace/config.toml``): ``headrace up --port P`` writes ``[api] url`` there so later
commands find that server without ``--api``.

The file is edited as text, line by line: only the one key's line changes (or is added to its
section, or the section is added at the end), so the user's comments and layout stay.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

__all__ = ["set_user_value", "user_config_path"]

DEFAULT_PATH = "~/.headrace/config.toml"


def user_config_path() -> Path:
    return Path(os.environ.get("HEADRACE_CONFIG_PATH") or DEFAULT_PATH).expanduser()


def set_user_value(section: str, key: str, value: str) -> Path:
    """Set ``[section] key = "value"`` in the user's config file; returns its path.

    Raises ``OSError`` when the file cannot be written; the folder is only created for the
    default path (a ``HEADRACE_CONFIG_PATH`` in a folder that does not exist is an error)."""
    path = user_config_path()
    if not path.parent.is_dir():
        if str(path) != str(Path(DEFAULT_PATH).expanduser()):
            raise FileNotFoundError(f"the folder of {path} does not exist")
        path.parent.mkdir(parents=True, exist_ok=True)
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    entry = f"{key} = {json.dumps(value)}"
    header = re.compile(r"^\s*\[\s*" + re.escape(section) + r"\s*\]\s*(#.*)?$")
    any_header = re.compile(r"^\s*\[")
    assignment = re.compile(r"^\s*" + re.escape(key) + r"\s*=")
    start = next((i for i, line in enumerate(lines) if header.match(line)), None)
    if start is None:
        if lines and lines[-1].strip():
            lines.append("")
        lines += [f"[{section}]", entry]
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if any_header.match(lines[i])), len(lines)
        )
        for i in range(start + 1, end):
            if assignment.match(lines[i]):
                lines[i] = entry
                break
        else:
            lines.insert(start + 1, entry)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
