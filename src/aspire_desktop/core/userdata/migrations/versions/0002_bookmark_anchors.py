"""Bookmarks keep what they point at: kind, document checksum and title, quoted text.

Revision ID: 0002
Revises: 0001
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bookmarks") as batch:
        batch.add_column(sa.Column("uid", sa.String(), nullable=True))
        batch.add_column(sa.Column("kind", sa.String(), nullable=False, server_default="page"))
        batch.add_column(sa.Column("page_count", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("document_sha256", sa.String(), nullable=True))
        batch.add_column(sa.Column("document_title", sa.Text(), nullable=False, server_default=""))
        for name in ("quote_exact", "quote_prefix", "quote_suffix"):
            batch.add_column(sa.Column(name, sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("updated_at", sa.DateTime(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, page, created_at FROM bookmarks")).fetchall()
    for row_id, page, created in rows:
        bind.execute(
            sa.text(
                "UPDATE bookmarks SET uid = :uid, kind = :kind, updated_at = :updated "
                "WHERE id = :id"
            ),
            {
                "uid": uuid.uuid4().hex,
                "kind": "resource" if page is None else "page",
                "updated": created,
                "id": row_id,
            },
        )
    with op.batch_alter_table("bookmarks") as batch:
        batch.alter_column("uid", existing_type=sa.String(), nullable=False)
        batch.alter_column("updated_at", existing_type=sa.DateTime(), nullable=False)
        batch.alter_column("kind", existing_type=sa.String(), server_default=None)
        batch.alter_column("document_title", existing_type=sa.Text(), server_default=None)
        for name in ("quote_exact", "quote_prefix", "quote_suffix"):
            batch.alter_column(name, existing_type=sa.Text(), server_default=None)
        batch.create_unique_constraint("uq_bookmarks_uid", ["uid"])


def downgrade() -> None:
    with op.batch_alter_table("bookmarks") as batch:
        batch.drop_constraint("uq_bookmarks_uid", type_="unique")
        for name in (
            "updated_at",
            "quote_suffix",
            "quote_prefix",
            "quote_exact",
            "document_title",
            "document_sha256",
            "page_count",
            "kind",
            "uid",
        ):
            batch.drop_column(name)
