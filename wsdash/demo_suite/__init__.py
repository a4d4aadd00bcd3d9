"""A small end-to-end suite that `wsdash demo` runs as its tier, against the embedded server."""
