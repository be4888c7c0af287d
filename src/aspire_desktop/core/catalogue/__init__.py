"""The catalogue: categories, resources and their files.

``models`` defines the schema as SQLAlchemy typed models (used to build catalogues);
``reader`` is the fast read-only query path the app and the CLI browse with.
"""

from aspire_desktop.core.catalogue.kinds import KINDS, STATUSES, kind_label

__all__ = ["KINDS", "STATUSES", "kind_label"]
