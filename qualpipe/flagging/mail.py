"""Sending the digest e-mail over SMTP (STARTTLS), to the addresses in qualpipe.toml and nowhere else."""

from __future__ import annotations

import os
import smtplib
import ssl
from email import message_from_bytes, policy

from qualpipe.config import Config
from qualpipe.errors import UserError


def send_message(config: Config, message: bytes, recipients: list[str]) -> None:
    """Deliver one message; any failure is one UserError line (the password is never shown or logged)."""
    if not config.smtp_host:
        raise UserError("[smtp] host is not set in qualpipe.toml; set host (and user, password_env) to send the digest")
    if not recipients:
        raise UserError("no recipient: set [digest] to in qualpipe.toml or give --to")
    password = os.environ.get(config.smtp_password_env, "") if config.smtp_user else ""
    if config.smtp_user and not password:
        raise UserError(f"[smtp] user is set but the environment variable {config.smtp_password_env} is empty; "
                        "set it to the SMTP password where the weekly run starts")
    where = f"[smtp] {config.smtp_host}:{config.smtp_port}"
    try:
        with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=30) as smtp:
            smtp.ehlo()
            if config.smtp_starttls:
                cafile = str(config.smtp_cafile) if config.smtp_cafile else None
                smtp.starttls(context=ssl.create_default_context(cafile=cafile))
                smtp.ehlo()
            if config.smtp_user:
                smtp.login(config.smtp_user, password)
            smtp.send_message(message_from_bytes(message, policy=policy.SMTP), to_addrs=recipients)
    except smtplib.SMTPAuthenticationError:
        raise UserError(f"{where}: the server refused the login of {config.smtp_user!r}; check user and "
                        f"${config.smtp_password_env}") from None
    except smtplib.SMTPNotSupportedError:
        raise UserError(f"{where}: the server offers no STARTTLS; qualpipe sends only encrypted "
                        "(set starttls = false only for a server on this machine)") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise UserError(f"{where}: the digest could not be sent ({type(exc).__name__}: {exc}); "
                        "check host, port and the network") from None
