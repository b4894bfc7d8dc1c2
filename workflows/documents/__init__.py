"""Stored files: the content-addressed document store and the file-type checks (magic bytes, ZIP bombs)."""

from workflows.documents.filetypes import (  # noqa: F401
    Kind,
    KINDS,
    ZIP_BASED,
    DocumentRejected,
    AllowedTypes,
    ZipLimits,
    sniff,
    has_macros,
    declared_member_count,
    check_zip,
)

from workflows.documents.store import (  # noqa: F401
    DocumentCorrupted,
    DocumentMissing,
    DocumentStore,
    StoredDocument,
    display_name,
)

