"""Errors of the dataset layer: each message names the dataset, the problem and the fix."""


class DatasetError(ValueError):
    """Base class: a dataset cannot be found, fetched, verified or read."""


class UnknownDatasetError(DatasetError):
    """The name is not in the registry."""


class DatasetNotFoundError(DatasetError):
    """Not in the mirror, not in the cache, and the download failed (usually: offline)."""


class ChecksumError(DatasetError):
    """Downloaded or extracted bytes do not hash to the registered checksum."""


class IncompleteDownloadError(DatasetError):
    """The server closed the connection before sending the announced number of bytes."""


class CorruptArchiveError(DatasetError):
    """A zip / tar / gzip file cannot be read, or lacks a member the registry expects."""


class CorruptFileError(DatasetError):
    """A local file of a dataset (mirror or cache) has the wrong size or checksum."""
