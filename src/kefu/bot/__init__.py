"""The knowledge-base bot: matcher, evaluation, and (with the conversation engine) hand-offs."""
