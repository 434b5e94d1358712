"""What the batch services need, built once per process (the API and the worker share it). The
inference service comes from `inference_core.wiring`, as the API's does; nothing here imports
FastAPI or `inference_core.api`.

Every AWS client is a parameter with a lazy default, so tests hand in moto-backed ones and the
integrity test and the benchmark hand in an inference service over a fake provider.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from inference_core.batch.queue import BatchQueue
from inference_core.batch.storage import FileStore
from inference_core.db.files import FilesRepository
from inference_core.db.jobs import JobsRepository

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer

    from inference_core.db.api_keys import ApiKeysRepository
    from inference_core.db.users import UsersRepository
    from inference_core.inference.service import InferenceService
    from inference_core.settings import Settings
    from inference_core.webhooks.delivery import WebhookSender

MailSender = Callable[..., Any]  # the signature of `inference_core.mailqueue.enqueue_mail`


def _default_inference() -> InferenceService:
    from inference_core.wiring import get_inference_service

    return get_inference_service()


def _default_mail(*args: Any, **kwargs: Any) -> Any:
    from inference_core.mailqueue import enqueue_mail

    return enqueue_mail(*args, **kwargs)


@dataclass
class BatchRuntime:
    settings: Settings
    jobs: JobsRepository
    files: FilesRepository
    store: FileStore
    queue: BatchQueue
    inference_factory: Callable[[], InferenceService] = _default_inference
    mail: MailSender = _default_mail
    clock: Callable[[], float] = time.time
    _users: UsersRepository | None = None
    _api_keys: ApiKeysRepository | None = None
    _webhooks: WebhookSender | None = None
    _idempotency: BasePersistenceLayer | None = None

    def inference(self) -> InferenceService:
        return self.inference_factory()

    @property
    def users(self) -> UsersRepository:
        if self._users is None:
            from inference_core.db.users import UsersRepository

            self._users = UsersRepository()
        return self._users

    @property
    def api_keys(self) -> ApiKeysRepository:
        if self._api_keys is None:
            from inference_core.db.api_keys import ApiKeysRepository

            self._api_keys = ApiKeysRepository()
        return self._api_keys

    @property
    def webhooks(self) -> WebhookSender:
        if self._webhooks is None:
            from inference_core.webhooks.delivery import WebhookSender

            self._webhooks = WebhookSender(self.settings)
        return self._webhooks

    @property
    def idempotency(self) -> BasePersistenceLayer:
        """Powertools' DynamoDB persistence layer over the idempotency table (worker only)."""
        if self._idempotency is None:
            import boto3
            from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

            client = boto3.client(
                "dynamodb",
                region_name=self.settings.aws.region,
                endpoint_url=self.settings.aws.aws_endpoint_url,
            )
            self._idempotency = DynamoDBPersistenceLayer(
                table_name=self.settings.tables.idempotency_table, boto3_client=client
            )
        return self._idempotency


def build_batch_runtime(
    settings: Settings,
    *,
    s3_client: Any | None = None,
    sqs_client: Any | None = None,
    inference_factory: Callable[[], InferenceService] | None = None,
    mail: MailSender | None = None,
    webhooks: WebhookSender | None = None,
    idempotency: BasePersistenceLayer | None = None,
    clock: Callable[[], float] = time.time,
) -> BatchRuntime:
    from inference_core.db.batch_models import bind_batch_models

    bind_batch_models(settings)
    aws = settings.aws
    runtime = BatchRuntime(
        settings=settings,
        jobs=JobsRepository(now=clock),
        files=FilesRepository(),
        store=FileStore(
            settings.queues.files_bucket,
            client=s3_client,
            region=aws.region,
            endpoint_url=aws.aws_endpoint_url,
        ),
        queue=BatchQueue(
            settings.queues.batch_queue_url,
            dlq_url=settings.batch.batch_queue_dlq_url,
            client=sqs_client,
            region=aws.region,
            endpoint_url=aws.aws_endpoint_url,
        ),
        clock=clock,
        _webhooks=webhooks,
        _idempotency=idempotency,
    )
    if inference_factory is not None:
        runtime.inference_factory = inference_factory
    if mail is not None:
        runtime.mail = mail
    return runtime


@lru_cache(maxsize=1)
def get_batch_runtime() -> BatchRuntime:
    from inference_core.settings import get_settings

    return build_batch_runtime(get_settings())
