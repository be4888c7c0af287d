"""Full-text search over the catalogue and the text of every cached document.

SQLite FTS5 in an index file of its own, beside the catalogue (see :mod:`.schema`).

* :mod:`.query`: what the user typed into an always-valid FTS5 query (phrases, prefixes,
  ``OR``, ``-word``, the glossary), cut into words by SQLite itself (:mod:`.tokens`);
* :mod:`.glossary`: the project's glossary of the field's terms (``glossary.toml``);
* :mod:`.index`: :class:`~.index.SearchIndex`, searching one index file, and
  :mod:`.results`, what it returns;
* :mod:`.indexer`: :class:`~.indexer.Indexer`, the durable queue and the indexing of
  documents, their text read by :mod:`.extract` in a child process, under time limits;
* :mod:`.library`: :class:`~.library.LibrarySearch`, the index for the content version in
  use (prebuilt with the content, or the user's own) and its background updates.

Nothing is imported here: the extraction child imports :mod:`.extract` alone.
"""
