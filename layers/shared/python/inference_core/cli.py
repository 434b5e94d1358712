"""`inference-core`: run the local stack and manage users and keys, locally or on AWS.

Against the local stack, commands read `.local/stack.json` (written by `inference-core dev`).
Against AWS, export the stack's settings first (see the README's "Deploy to AWS"): the table
names and `IC_JWT_SECRET_ARN`, with AWS credentials in the usual places.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path


def _use_local_stack(state_dir: Path) -> bool:
    state_file = state_dir / "stack.json"
    if not state_file.exists():
        return False
    state = json.loads(state_file.read_text())
    for name, value in state["env"].items():
        os.environ.setdefault(name, value)
    return True


def _prepare(args: argparse.Namespace) -> None:
    if not args.aws:
        if not _use_local_stack(Path(args.state_dir)) and not os.environ.get("IC_JWT_SECRET_ARN"):
            sys.exit(
                "no local stack found (run `make dev`), and no AWS settings in the environment "
                "(pass --aws after exporting them)"
            )
    from inference_core.api.deps import reset_dependencies
    from inference_core.db.models import configure_models
    from inference_core.settings import get_settings

    get_settings.cache_clear()
    reset_dependencies()
    configure_models(get_settings())


def cmd_dev(args: argparse.Namespace) -> int:
    from inference_core.local.stack import StackConfig, run

    return run(
        StackConfig(
            host=args.host,
            api_port=args.port,
            moto_port=args.aws_port,
            model_port=args.model_port,
            state_dir=Path(args.state_dir),
            pollers=not args.no_pollers,
            quiet=args.quiet,
        )
    )


def cmd_create_user(args: argparse.Namespace) -> int:
    _prepare(args)
    from inference_core.admin import create_user

    password = args.password or getpass.getpass("Password for the new user: ")
    user = create_user(args.email, password, superuser=args.superuser, name=args.name)
    print(json.dumps({"user_id": user.user_id, "email": user.email, "role": user.role}))
    return 0


def cmd_create_key(args: argparse.Namespace) -> int:
    _prepare(args)
    from inference_core.admin import create_api_key_for_email

    models = [m.strip() for m in args.models.split(",")] if args.models else None
    key = create_api_key_for_email(
        args.email, name=args.name, allowed_models=models, rpm_limit=args.rpm
    )
    print(key)
    print("Store this key now: it is not shown again.", file=sys.stderr)
    return 0


def cmd_mail(args: argparse.Namespace) -> int:
    _prepare(args)
    from inference_core.mail.local_mailbox import print_mailbox

    print_mailbox(os.environ["IC_AWS_ENDPOINT_URL"], limit=args.limit)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inference-core", description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", default=".local", help="the local stack's state folder")
    sub = parser.add_subparsers(dest="command", required=True)

    dev = sub.add_parser("dev", help="start the local stack (Ctrl-C stops it)")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=8000, help="the API's port")
    dev.add_argument("--aws-port", type=int, default=5001, help="the embedded AWS (moto) port")
    dev.add_argument("--model-port", type=int, default=8081, help="the local model server's port")
    dev.add_argument(
        "--no-pollers", action="store_true", help="do not feed the SQS queues to the workers"
    )
    dev.add_argument(
        "--quiet", action="store_true", help="no per-request lines (the logs still go to files)"
    )
    dev.set_defaults(func=cmd_dev)

    def target(p: argparse.ArgumentParser) -> None:
        p.add_argument("--aws", action="store_true", help="use the AWS settings in the environment")

    user = sub.add_parser("create-user", help="create a user")
    user.add_argument("email")
    user.add_argument("--password", help="prompted for when omitted")
    user.add_argument("--name")
    user.add_argument("--superuser", action="store_true")
    target(user)
    user.set_defaults(func=cmd_create_user)

    key = sub.add_parser("create-key", help="create an API key for a user (printed once)")
    key.add_argument("email")
    key.add_argument("--name", default="cli")
    key.add_argument("--models", help="comma-separated model aliases the key may use")
    key.add_argument("--rpm", type=int, help="requests per minute (at most the owner's)")
    target(key)
    key.set_defaults(func=cmd_create_key)

    mail = sub.add_parser("mail", help="list the mail the local stack has sent")
    mail.add_argument("--limit", type=int, default=20)
    target(mail)
    mail.set_defaults(func=cmd_mail)

    from inference_core.batch.cli import add_batch_commands

    add_batch_commands(sub)
    from inference_core.admin_cli import add_admin_commands

    add_admin_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from inference_core.errors import InferenceCoreError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (InferenceCoreError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
