"""The durable append-only object log (docs/log-format.md).

Modules, one job each: errors (exceptions), record (record codec), superblock (disk
identity, format version, geometry), segment (slot headers, slot table, record scanner),
writer (append/flush/roll), index (in-RAM index and live bytes), recovery (boot scan),
reader (verified reads), compaction (space reclaim), store (the facade the S3 layer uses).
"""
