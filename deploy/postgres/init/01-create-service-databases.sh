#!/bin/bash
# Run once by the postgres image on an empty data directory
# (mounted at /docker-entrypoint-initdb.d). One role and one database per
# service (DESIGN D5): a service can only reach its own data.
# Development defaults: password = role name. Override per service with
# COOP_PG_PASSWORD_<SERVICE> (e.g. COOP_PG_PASSWORD_ELECTIONS) and the list with
# COOP_SERVICE_DATABASES (space separated).
set -euo pipefail

databases="${COOP_SERVICE_DATABASES:-membership billing elections board_meetings notifications}"

for db in $databases; do
    var="COOP_PG_PASSWORD_${db^^}"
    password="${!var:-$db}"
    echo "coopgov: creating role and database '$db'"
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "${POSTGRES_DB:-postgres}" \
         -v db="$db" -v pw="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'db', :'pw')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'db')\gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'db')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db')\gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'db')\gexec
SQL
    # PostgreSQL 15+: the public schema is owned by pg_database_owner, so the
    # owning role can create its tables there without further grants.
done
