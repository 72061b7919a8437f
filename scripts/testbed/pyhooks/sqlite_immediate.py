"""Make oslo.db services (Keystone, upstream Glance) usable on SQLite under
concurrent requests.  Test-bed only: imported into uWSGI with
``--import sqlite_immediate`` before the application is loaded.

Why: oslo.db disables pysqlite's implicit transactions and issues a plain
``BEGIN`` (a *deferred* transaction).  When two requests each read and then
try to write, both hold SHARED locks and neither can get the RESERVED lock:
SQLite detects the deadlock and fails one of them immediately with
"database is locked", without waiting for the busy timeout.  Keystone then
answers 500 and clients see failed token requests.

What: every SQLite ``BEGIN`` becomes ``BEGIN IMMEDIATE`` (the write lock is
taken at the start, so concurrent transactions wait in line on the busy
timeout instead of deadlocking), and every new SQLite connection gets a 60 s
busy timeout.  Other database engines are left untouched.
"""
import sys

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

BUSY_TIMEOUT_MS = 60 * 1000


@event.listens_for(Engine, "before_cursor_execute", retval=True)
def _immediate_begin(conn, cursor, statement, parameters, context, executemany):
    if conn.dialect.name == "sqlite" and statement.strip().upper() == "BEGIN":
        return "BEGIN IMMEDIATE", parameters
    return statement, parameters


@event.listens_for(Pool, "connect")
def _set_busy_timeout(dbapi_connection, connection_record):
    module = type(dbapi_connection).__module__
    if module.startswith(("sqlite3", "pysqlite")):
        dbapi_connection.execute("PRAGMA busy_timeout = %d" % BUSY_TIMEOUT_MS)


print("sqlite_immediate: SQLite BEGIN IMMEDIATE + busy timeout %d ms"
      % BUSY_TIMEOUT_MS, file=sys.stderr, flush=True)
