"""Alembic migrations of the store.

HEAD_REVISION names the newest migration, so a start-up can see that the schema is current
without loading Alembic; a test checks it against Alembic's own head.
"""

HEAD_REVISION = "0009"
