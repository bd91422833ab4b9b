#!/usr/bin/env bash
# Throw-away Secrets for the dev overlay, with fresh random passwords, printed as manifests:
#   deploy/k8s/overlays/dev/dev-secrets.sh | kubectl create -n coopgov-dev -f -
# `create`, not `apply`: PostgreSQL and RabbitMQ keep the passwords of their first start, so
# a second run on a living namespace must fail rather than replace them. To start over,
# delete the namespace (or the StatefulSets' volumes) and run it again.
# The passwords are hex (URL-safe: they go into connection URLs). Development only; the
# production and partner overlays use Secrets the operator creates (docs/deploy.md).
set -euo pipefail

services="membership billing elections board notifications"

password() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }

secret() {  # secret NAME KEY=VALUE...
    printf -- '---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  labels:\n    coopgov.org/throw-away: "true"\ntype: Opaque\nstringData:\n' "$1"
    shift
    for pair in "$@"; do
        printf '  %s: "%s"\n' "${pair%%=*}" "${pair#*=}"
    done
}

declare -A db_password amqp_password
for service in $services; do
    db_password[$service]=$(password)
    amqp_password[$service]=$(password)
done

secret postgres-superuser "POSTGRES_PASSWORD=$(password)"
pg_pairs=()
broker_pairs=()
for service in $services; do
    pg_pairs+=("COOP_PG_PASSWORD_${service^^}=${db_password[$service]}")
    broker_pairs+=("${service^^}_AMQP_PASSWORD=${amqp_password[$service]}")
done
secret postgres-service-passwords "${pg_pairs[@]}"
secret rabbitmq-admin "RABBITMQ_DEFAULT_USER=coop-admin" "RABBITMQ_DEFAULT_PASS=$(password)"
# each service's broker user (`coop broker setup` creates them with these passwords)
secret coop-broker-passwords "${broker_pairs[@]}"
for service in $services; do
    secret "coop-$service-secrets" \
        "COOP_DATABASE_URL=postgresql+psycopg2://$service:${db_password[$service]}@postgres:5432/$service" \
        "COOP_AMQP_URL=amqp://$service:${amqp_password[$service]}@rabbitmq:5672/"
done
