"""The read-only login role BI tools use: SELECT on schema `mart` and nothing else.

Why the pieces are there:
- The mart views read `warehouse` and `meta` with their owner's rights (PostgreSQL views are
  not security_invoker by default), so the role needs no grant outside `mart` for them to work.
- Default privileges make views created later (a new view file, a rebuilt materialised view)
  readable without re-running this command.
- The password is hashed into a SCRAM verifier on the client (libpq's PQencryptPasswordConn,
  as psql's \\password does), so the plaintext is never part of a statement that a server log,
  pg_stat_activity or an error message could show.
- The role's sessions default to read-only transactions as a second fence behind the grants.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

BI_ROLE = "cityrank_bi"
# Schemas the role must not read even if someone granted it earlier.
PRIVATE_SCHEMAS = ("warehouse", "meta")


class BiRoleError(RuntimeError):
    """Setting up the role failed. Never carries the password or the statement that set it."""


def _owners_to_cover(conn: psycopg.Connection) -> list[str]:
    """Roles whose future mart objects need default grants: whoever creates views here.

    That is the current user (it applies the view files) plus the owners of the schema and
    of existing mart relations, limited to roles the current user may act for.
    """
    rows = conn.execute(
        """SELECT DISTINCT r.rolname FROM pg_roles r
           WHERE (r.rolname = current_user
                  OR r.oid = (SELECT nspowner FROM pg_namespace WHERE nspname = 'mart')
                  OR r.oid IN (SELECT c.relowner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                               WHERE n.nspname = 'mart'))
             AND pg_has_role(current_user, r.oid, 'MEMBER')
           ORDER BY 1""").fetchall()
    return [r[0] for r in rows]


def _set_password(conn: psycopg.Connection, role: str, password: str, exists: bool) -> None:
    verifier = conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode()
    template = ("ALTER ROLE {} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD {}"
                if exists else
                "CREATE ROLE {} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD {}")
    try:
        conn.execute(sql.SQL(template).format(sql.Identifier(role), sql.Literal(verifier)))
    except psycopg.Error as exc:
        # `from None`: the chained exception would be harmless, but nothing about this
        # statement is worth a traceback next to a credential.
        raise BiRoleError(f"could not {'update' if exists else 'create'} role {role}: "
                          f"{exc.diag.message_primary or type(exc).__name__}") from None


def ensure_bi_role(conn: psycopg.Connection, password: str, role: str = BI_ROLE) -> bool:
    """Create or update `role` with `password`, able to SELECT from schema mart only.

    Returns True when the role was created, False when it existed and was updated. Runs in
    one transaction: on any error nothing changes.
    """
    if not password:
        raise BiRoleError("the password is empty")
    ident = sql.Identifier(role)
    try:
        with conn.transaction():
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is not None
            _set_password(conn, role, password, exists)
            conn.execute(sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(ident))
            conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(conn.info.dbname), ident))
            for schema in PRIVATE_SCHEMAS:
                if conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone():
                    schema_id = sql.Identifier(schema)
                    conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM {}").format(schema_id, ident))
                    conn.execute(sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}").format(schema_id, ident))
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA mart TO {}").format(ident))
            conn.execute(sql.SQL("REVOKE CREATE ON SCHEMA mart FROM {}").format(ident))
            conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA mart TO {}").format(ident))
            conn.execute(sql.SQL("GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA mart TO {}").format(ident))
            for owner in _owners_to_cover(conn):
                for grant in ("GRANT SELECT ON TABLES TO {}", "GRANT EXECUTE ON FUNCTIONS TO {}"):
                    conn.execute(sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA mart " + grant).format(
                        sql.Identifier(owner), ident))
    except BiRoleError:
        raise
    except psycopg.Error as exc:
        raise BiRoleError(f"could not grant {role} read access to mart: {exc.diag.message_primary or exc}") from None
    return not exists
