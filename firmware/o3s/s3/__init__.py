"""S3 protocol core: SigV4, errors, XML, names/ranges/conditions, listing pagination (no I/O)."""
