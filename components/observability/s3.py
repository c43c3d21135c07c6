"""S3 bucket names as AWS allows them, checked where ``airflow:remoteLogs.bucket`` is read.

A name S3 refuses would otherwise surface only when the first task writes its log.
See https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html (general purpose).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

__all__ = ["S3BucketName", "bucket_name_problem"]

_SHAPE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP_ADDRESS = re.compile(r"\d{1,3}(\.\d{1,3}){3}")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name_problem(name: str) -> str | None:
    """Why S3 would refuse ``name`` as a general purpose bucket, or None."""
    if not _SHAPE.fullmatch(name):
        return "3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit"
    if ".." in name or ".-" in name or "-." in name:
        return "without '..', '.-' or '-.'"
    if _IP_ADDRESS.fullmatch(name):
        return "not an IP address"
    if name.startswith(_RESERVED_PREFIXES):
        return f"not starting with {', '.join(_RESERVED_PREFIXES)} (reserved by AWS)"
    if name.endswith(_RESERVED_SUFFIXES):
        return f"not ending with {', '.join(_RESERVED_SUFFIXES)} (reserved by AWS)"
    return None


def _bucket_name(name: str) -> str:
    problem = bucket_name_problem(name)
    if problem:
        raise PydanticCustomError("s3_bucket_name", "must be an S3 bucket name: {rule}", {"rule": problem})
    return name


S3BucketName = Annotated[str, AfterValidator(_bucket_name)]
