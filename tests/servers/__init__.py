"""Local test servers (HTTP with fault injection, moto S3) bound to 127.0.0.1 only."""
