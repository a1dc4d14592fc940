"""Safe attachments: storage, type checks by magic bytes, image re-encoding, archive checks,
file names, and signed download URLs. See docs/attachments.md."""
