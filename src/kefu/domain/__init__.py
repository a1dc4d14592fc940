"""Plain domain types: enums, ids, typed events and errors. No I/O here."""
