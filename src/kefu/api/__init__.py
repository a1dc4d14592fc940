"""HTTP routes only: parse, call one action or query, serialise."""
