"""The metadata database: PgBouncer config and logins built from the real connection URL."""
