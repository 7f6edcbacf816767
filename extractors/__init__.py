"""defwatch extractors: pure functions from articles to defection events (no I/O)."""

from extractors.dedup import Deduplicator, Window, entity_key, merge
from extractors.extract import Extractor
from extractors.models import Article, ArticleError, ArticleResult, DefectionEvent, Defector, Source
from extractors.triggers import passes as prefilter

__all__ = [
    "Article",
    "ArticleError",
    "ArticleResult",
    "Deduplicator",
    "DefectionEvent",
    "Defector",
    "Extractor",
    "Source",
    "Window",
    "entity_key",
    "merge",
    "prefilter",
]
