#!/bin/bash
# Run once by the postgres image on an empty data directory
# (mounted at /docker-entrypoint-initdb.d). One role and one database per
# service (DESIGN D5): a service can only reach its own data.
# Each role's password comes from COOP_PG_PASSWORD_<SERVICE> (e.g.
# COOP_PG_PASSWORD_ELECTIONS), which the operator sets from a secret: there is no
# default, and a database listed without its password stops the initialisation.
# COOP_SERVICE_DATABASES (space separated) lists the databases to create.
# deploy/k8s/overlays/dev/ carries a copy of this file (kustomize reads no file
# outside its folder); tests/deploy keeps the two equal.
set -euo pipefail

databases="${COOP_SERVICE_DATABASES:-membership billing elections board notifications}"

for db in $databases; do
    var="COOP_PG_PASSWORD_${db^^}"
    password="${!var:-}"
    if [ -z "$password" ]; then
        echo "coopgov: $var is empty: set the password of role '$db' (or leave '$db' out of COOP_SERVICE_DATABASES)" >&2
        exit 1
    fi
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
