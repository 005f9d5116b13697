"""Native FLAC files (RFC 9639)."""
