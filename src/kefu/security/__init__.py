"""Authentication, tokens, identity verification, rate limits."""
