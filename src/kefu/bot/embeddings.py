"""The optional embeddings backend (``pip install kefu[embeddings]``).

Not available in this build: :func:`train_embeddings` raises ``ImportError`` so callers fall
back to the default backend or report the missing extra.
"""

from __future__ import annotations

from collections.abc import Sequence

from kefu.bot.matcher import Example, Model


def train_embeddings(examples: Sequence[Example]) -> Model:
    raise ImportError("the embeddings backend needs the kefu[embeddings] extra")
