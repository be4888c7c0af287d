"""The first user data schema: settings, reading positions, download requests, bookmarks.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "settings",
        sa.Column("key", sa.String(), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.create_table(
        "reading_positions",
        sa.Column("document_key", sa.String(), primary_key=True),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("page_count", sa.Integer(), nullable=True),
        sa.Column("zoom", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "download_requests",
        sa.Column("resource_id", sa.String(), primary_key=True),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "bookmarks",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("resource_id", sa.String(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("label", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_bookmarks_resource_id", "bookmarks", ["resource_id"])


def downgrade() -> None:
    op.drop_index("ix_bookmarks_resource_id", "bookmarks")
    op.drop_table("bookmarks")
    op.drop_table("download_requests")
    op.drop_table("reading_positions")
    op.drop_table("settings")
