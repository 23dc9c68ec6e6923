from .embedding_neck import EmbeddingNeck
from .proxy_anchor_head import ProxyAnchorHead
from .retriever import EmbeddingRetriever

__all__ = ['EmbeddingNeck', 'EmbeddingRetriever', 'ProxyAnchorHead']
