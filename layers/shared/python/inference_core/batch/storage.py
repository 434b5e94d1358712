"""File bodies in S3 (the files bucket): uploads, batch outputs, and oversized line results."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from inference_core.errors import NotFoundError, ServiceUnavailableError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def file_key(file_id: str) -> str:
    return f"files/{file_id}"


def result_key(batch_id: str, index: int) -> str:
    return f"results/{batch_id}/{index:07d}.json"


def _missing(exc: ClientError) -> bool:
    code = exc.response.get("Error", {}).get("Code")
    return code in ("NoSuchKey", "404", "NotFound")


class FileStore:
    """One bucket; `client` is a boto3 S3 client (made lazily from settings when not given)."""

    def __init__(
        self,
        bucket: str,
        *,
        client: S3Client | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
    ):
        self.bucket = bucket
        self._client = client
        self._region = region
        self._endpoint_url = endpoint_url

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client(
                "s3", region_name=self._region, endpoint_url=self._endpoint_url
            )
        return self._client

    def put(self, key: str, data: bytes, *, content_type: str = "application/jsonl") -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)
        except (ClientError, BotoCoreError) as exc:
            raise ServiceUnavailableError(
                "The file storage is unavailable.", code="storage_unavailable"
            ) from exc

    def get(self, key: str, *, byte_range: tuple[int, int] | None = None) -> bytes:
        """The object's bytes (or bytes [start, end) of it); NotFoundError if it is gone."""
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if byte_range is not None:
            start, end = byte_range
            kwargs["Range"] = f"bytes={start}-{end - 1}"
        try:
            response = self.client.get_object(**kwargs)
            return bytes(response["Body"].read())
        except ClientError as exc:
            if _missing(exc):
                raise NotFoundError(
                    "The file's content no longer exists.", code="file_not_found"
                ) from exc
            raise ServiceUnavailableError(
                "The file storage is unavailable.", code="storage_unavailable"
            ) from exc
        except BotoCoreError as exc:
            raise ServiceUnavailableError(
                "The file storage is unavailable.", code="storage_unavailable"
            ) from exc

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise ServiceUnavailableError(
                "The file storage is unavailable.", code="storage_unavailable"
            ) from exc
