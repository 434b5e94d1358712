"""Email: templates, transports (SES v2, SMTP fallback) and the mailer's service.

The mailer Lambda (`functions/mailer/handler.py`) calls `send_mail_message` for each message on the
mail queue; `inference_core.mailqueue` is the producer side. `local_mailbox` reads what the local
stack's SES (moto) has "sent".
"""

from inference_core.mail.errors import InvalidMailMessageError, MailDeliveryError, MailRefusedError
from inference_core.mail.senders import (
    FallbackMailSender,
    MailSender,
    OutgoingMail,
    SentMail,
    SesMailSender,
    SmtpMailSender,
    build_mail_sender,
    build_mime,
)
from inference_core.mail.service import (
    MAIL_MESSAGE_VERSION,
    MailDelivery,
    MailMessage,
    MailRuntime,
    build_idempotency_store,
    build_mail_runtime,
    mask_address,
    parse_mail_message,
    send_mail_message,
)
from inference_core.mail.templates import TEMPLATE_NAMES, RenderedMail, TemplateName, render_mail

__all__ = [
    "MAIL_MESSAGE_VERSION",
    "TEMPLATE_NAMES",
    "FallbackMailSender",
    "InvalidMailMessageError",
    "MailDelivery",
    "MailDeliveryError",
    "MailMessage",
    "MailRefusedError",
    "MailRuntime",
    "MailSender",
    "OutgoingMail",
    "RenderedMail",
    "SentMail",
    "SesMailSender",
    "SmtpMailSender",
    "TemplateName",
    "build_idempotency_store",
    "build_mail_runtime",
    "build_mail_sender",
    "build_mime",
    "mask_address",
    "parse_mail_message",
    "render_mail",
    "send_mail_message",
]
