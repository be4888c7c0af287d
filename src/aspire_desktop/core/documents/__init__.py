"""PDF access through PyMuPDF.

PyMuPDF is not thread-safe: everything in this package that touches a document runs in
the one :class:`~aspire_desktop.core.documents.worker.DocumentWorker` thread (or in a
process of its own, as the content build does).
"""
