"""Kept so carbon's migrations, which name `carbon.storage.private_storage`, still import."""

from portal.storage import PrivateFileSystemStorage, private_storage

__all__ = ["PrivateFileSystemStorage", "private_storage"]
