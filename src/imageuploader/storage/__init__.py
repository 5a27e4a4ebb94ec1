"""Object storage: the Storage protocol, local and S3 backends, the hash ring, rebalancing."""

from .base import (
    ObjectInfo,
    ObjectNotFound,
    ObjectStream,
    Storage,
    StorageError,
    StorageUnavailable,
    validate_key,
)
from .factory import storage_from_url
from .local import LocalStorage
from .rebalance import Placement, RebalanceEvent, RebalanceReport, rebalance
from .ring import HashRing
from .s3 import S3Storage

__all__ = [
    "HashRing",
    "LocalStorage",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStream",
    "Placement",
    "RebalanceEvent",
    "RebalanceReport",
    "S3Storage",
    "Storage",
    "StorageError",
    "StorageUnavailable",
    "rebalance",
    "storage_from_url",
    "validate_key",
]
