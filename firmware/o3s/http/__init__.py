"""HTTP/1.1 protocol core: request-head parsing, body framing decoders, response heads (no I/O)."""
