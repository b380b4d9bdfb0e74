"""The read-only login role BI tools use: SELECT on schema `mart` and nothing else.

Why the pieces are there:
- The mart views read `warehouse` and `meta` with their owner's rights (PostgreSQL views are
  not security_invoker by default), so the role needs no grant outside `mart` for them to work.
- Default privileges make views created later (a new view file, a rebuilt materialised view)
  readable without re-running this command.
- The password is hashed into a SCRAM verifier on the client (libpq's PQencryptPasswordConn,
  as psql's \\password does), so the plaintext is never part of a statement that a server log,
  pg_stat_activity or an error message could show.
- The role's sessions default to read-only transactions, but that is only a convenience: any
  role may lift it (SET, SET SESSION CHARACTERISTICS, even ALTER ROLE on itself), so the
  grants alone must make writing impossible. PostgreSQL gives PUBLIC, and so every role, a few
  ways to write that no table grant covers: temporary tables (TEMP on the database), CREATE
  on a schema where PUBLIC still has it (`public` before PostgreSQL 15), and large objects
  (lo_create and friends). Those are revoked from PUBLIC in the warehouse database; cityrank's
  own role keeps them through its ownership or an explicit grant, so nothing of ours breaks.
- The role may connect to the warehouse database only among cityrank's: CONNECT on the
  Dagster storage database is revoked from PUBLIC (run history and its tags are not for BI).
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from .database import DAGSTER_DB

BI_ROLE = "cityrank_bi"
# Databases of cityrank's that BI tools have no business in.
CLOSED_DATABASES = (DAGSTER_DB,)
# Functions that create large objects: writes that need no table privilege.
LARGE_OBJECT_WRITERS = ("lo_create(oid)", "lo_creat(integer)", "lo_from_bytea(oid, bytea)", "lo_import(text)",
                        "lo_import(text, oid)")
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


def _close_public_write_paths(conn: psycopg.Connection, ident: sql.Identifier) -> None:
    """Revoke from PUBLIC (and the role) every privilege that lets a role write without a grant."""
    me = sql.Identifier(conn.execute("SELECT current_user").fetchone()[0])
    here = sql.Identifier(conn.info.dbname)
    conn.execute(sql.SQL("REVOKE TEMPORARY, CREATE ON DATABASE {} FROM PUBLIC, {}").format(here, ident))
    conn.execute(sql.SQL("GRANT TEMPORARY ON DATABASE {} TO {}").format(here, me))
    open_schemas = conn.execute(
        """SELECT n.nspname, pg_has_role(n.nspowner, 'USAGE') FROM pg_namespace n
           WHERE left(n.nspname, 3) <> 'pg_' AND n.nspname <> 'information_schema'
             AND EXISTS (SELECT 1 FROM aclexplode(n.nspacl) a WHERE a.grantee = 0 AND a.privilege_type = 'CREATE')
           ORDER BY 1""").fetchall()
    for schema, mine in open_schemas:
        conn.execute(sql.SQL("REVOKE CREATE ON SCHEMA {} FROM PUBLIC, {}").format(sql.Identifier(schema), ident))
        if not mine:  # we created there through PUBLIC's grant: keep doing so through our own
            conn.execute(sql.SQL("GRANT CREATE ON SCHEMA {} TO {}").format(sql.Identifier(schema), me))
    if conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]:
        for function in LARGE_OBJECT_WRITERS:
            conn.execute(sql.SQL("REVOKE EXECUTE ON FUNCTION pg_catalog.{} FROM PUBLIC").format(sql.SQL(function)))
    for name in CLOSED_DATABASES:
        if name != conn.info.dbname and conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(sql.SQL("REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC, {}").format(
                sql.Identifier(name), ident))
            conn.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(sql.Identifier(name), me))


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
            conn.execute(sql.SQL("ALTER ROLE {} RESET ALL").format(ident))  # undo what the role set itself
            conn.execute(sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(ident))
            conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(conn.info.dbname), ident))
            _close_public_write_paths(conn, ident)
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
