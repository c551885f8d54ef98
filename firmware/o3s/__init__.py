"""O3Storage: an S3 appliance. The package is frozen into the firmware; see app.py for start-up."""

VERSION = "0.1.0"
