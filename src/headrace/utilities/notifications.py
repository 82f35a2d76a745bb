"""State-handler helpers that tell a person about a state: a Slack-compatible webhook, a
generic JSON webhook and an SMTP email (Prefect 1's ``prefect.utilities.notifications``).

Each is a state handler ``(obj, old_state, new_state) -> new_state`` and, like Prefect's
curried helpers, can be configured first::

    task(state_handlers=[slack_notifier(only_states=[Failed], webhook_url=URL)])
    flow = Flow("etl", state_handlers=[email_notifier(to="ops@example.com",
                                                      smtp_host="127.0.0.1")])

``only_states`` keeps only states of those kinds (subclasses count: ``[Failed]`` includes
``TimedOut``); ``ignore_states`` drops some. A notification that cannot be delivered is
logged and never changes the run's state. URLs and passwords may come from secrets
(``webhook_secret="SLACK_WEBHOOK_URL"``, ``password_secret=...``), resolved when sent.
"""

from __future__ import annotations

import functools
import smtplib
from collections.abc import Callable, Sequence
from email.message import EmailMessage
from typing import Any

from headrace.utilities.logging import get_logger

__all__ = ["email_notifier", "notification_text", "slack_notifier", "webhook_notifier"]

logger = get_logger("notifications")
Handler = Callable[[Any, Any, Any], Any]


def _wanted(new_state: Any, only: Sequence[type] | None, ignore: Sequence[type] | None) -> bool:
    if only and not isinstance(new_state, tuple(only)):
        return False
    return not (ignore and isinstance(new_state, tuple(ignore)))


def notification_text(obj: Any, new_state: Any) -> str:
    """One line: what changed to which state, and its message."""
    kind = "Flow" if type(obj).__name__ == "Flow" else "Task"
    name = getattr(obj, "name", str(obj))
    text = f"{kind} {name!r} is now {type(new_state).__name__}"
    message = getattr(new_state, "message", None)
    return f"{text}: {message}" if message else text


def _payload(obj: Any, new_state: Any) -> dict[str, Any]:
    from headrace.runcontext import context

    return {
        "kind": "flow" if type(obj).__name__ == "Flow" else "task",
        "name": getattr(obj, "name", str(obj)),
        "state": type(new_state).__name__,
        "message": str(getattr(new_state, "message", "") or ""),
        "flow_name": context.get("flow_name"),
        "flow_run_id": context.get("flow_run_id"),
        "text": notification_text(obj, new_state),
    }


def _secret(name: str | None) -> Any:
    if not name:
        return None
    from headrace.client.secrets import Secret

    return Secret(name).get()


def _post(url: str, body: dict[str, Any], what: str) -> None:
    import httpx

    try:
        response = httpx.post(url, json=body, timeout=10.0)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        logger.warning("%s: could not deliver the notification: %s", what, exc)


def _curried(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Called without the handler's three arguments, returns the configured handler."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if len(args) == 3:
            return fn(*args, **kwargs)
        if args:
            raise TypeError(f"{fn.__name__} takes (obj, old_state, new_state) or only keywords")
        handler = functools.partial(fn, **kwargs)
        functools.update_wrapper(handler, fn)
        return handler

    return wrapper


@_curried
def webhook_notifier(
    tracked_obj: Any,
    old_state: Any,
    new_state: Any,
    *,
    url: str | None = None,
    url_secret: str | None = None,
    only_states: Sequence[type] | None = None,
    ignore_states: Sequence[type] | None = None,
) -> Any:
    """POSTs ``{kind, name, state, message, flow_name, flow_run_id, text}`` as JSON."""
    if _wanted(new_state, only_states, ignore_states):
        target = url or _secret(url_secret)
        if not target:
            raise ValueError("webhook_notifier needs url= or url_secret=")
        _post(str(target), _payload(tracked_obj, new_state), "webhook_notifier")
    return new_state


@_curried
def slack_notifier(
    tracked_obj: Any,
    old_state: Any,
    new_state: Any,
    *,
    webhook_url: str | None = None,
    webhook_secret: str | None = "SLACK_WEBHOOK_URL",
    only_states: Sequence[type] | None = None,
    ignore_states: Sequence[type] | None = None,
) -> Any:
    """POSTs a Slack incoming-webhook message (``text`` plus an attachment of fields)."""
    if _wanted(new_state, only_states, ignore_states):
        target = webhook_url or _secret(webhook_secret)
        body = _payload(tracked_obj, new_state)
        failed = bool(getattr(new_state, "is_failed", lambda: False)())
        message = {
            "text": body["text"],
            "attachments": [
                {
                    "color": "#d33" if failed else "#2a2",
                    "title": f"{body['kind'].title()} {body['name']}: {body['state']}",
                    "fields": [
                        {"title": "State", "value": body["state"], "short": True},
                        {"title": "Flow", "value": body["flow_name"] or "", "short": True},
                        {"title": "Message", "value": body["message"], "short": False},
                    ],
                }
            ],
        }
        _post(str(target), message, "slack_notifier")
    return new_state


@_curried
def email_notifier(
    tracked_obj: Any,
    old_state: Any,
    new_state: Any,
    *,
    to: str | Sequence[str] = (),
    sender: str = "headrace@localhost",
    smtp_host: str = "127.0.0.1",
    smtp_port: int = 25,
    starttls: bool = False,
    username: str | None = None,
    password_secret: str | None = None,
    only_states: Sequence[type] | None = None,
    ignore_states: Sequence[type] | None = None,
) -> Any:
    """Sends a plain-text email through the SMTP server ``smtp_host:smtp_port``."""
    if _wanted(new_state, only_states, ignore_states):
        recipients = [to] if isinstance(to, str) else list(to)
        if not recipients:
            raise ValueError("email_notifier needs to= (one or more addresses)")
        body = _payload(tracked_obj, new_state)
        mail = EmailMessage()
        mail["Subject"] = f"[headrace] {body['text'][:150]}"
        mail["From"] = sender
        mail["To"] = ", ".join(recipients)
        mail.set_content(
            f"{body['text']}\n\nflow: {body['flow_name']}\nflow run: {body['flow_run_id']}\n"
        )
        try:
            with smtplib.SMTP(smtp_host, smtp_port, timeout=10) as smtp:
                if starttls:
                    smtp.starttls()
                if username:
                    smtp.login(username, str(_secret(password_secret) or ""))
                smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as exc:
            logger.warning("email_notifier: could not send to %s: %s", recipients, exc)
    return new_state
