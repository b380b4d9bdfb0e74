"""Metadata the Dagster UI knows how to show: table name, row count and column schema under the
`dagster/` keys, numbers it plots across materialisations, and pictures small enough to show inline.

The UI renders a markdown metadata value in place (not behind "[Show Markdown]") only when it is
under 1,000 characters, so the inline chart is a compact SVG; the full PNG stays one click away.
"""

import dagster as dg
from psycopg import sql

# Dagster 1.13 renders markdown metadata inline below this length (ui-core MetadataEntry).
INLINE_MARKDOWN_LIMIT = 1000


def table_schema(conn, schema: str, table: str) -> dg.TableSchema:
    """The table's or view's columns with their types and COMMENTs, in column order."""
    rows = conn.execute(
        """SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, col_description(c.oid, a.attnum)
           FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped
           ORDER BY a.attnum""", (schema, table)).fetchall()
    return dg.TableSchema(columns=[
        dg.TableColumn(name, type=type_name, description=comment,
                       constraints=dg.TableColumnConstraints(nullable=not not_null))
        for name, type_name, not_null, comment in rows])


def table_metadata(conn, schema: str, table: str, row_count: int) -> dict:
    """The standard `dagster/` entries for one warehouse table or mart view."""
    return {"dagster/table_name": f"{schema}.{table}", "dagster/row_count": int(row_count),
            "dagster/column_schema": table_schema(conn, schema, table)}


def count_rows(conn, schema: str, table: str) -> int:
    query = sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
    return conn.execute(query).fetchone()[0]
