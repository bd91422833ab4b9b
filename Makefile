# coopgov: everything goes through this file so a fresh machine needs nothing by hand.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed
# proto/google holds protos vendored from googleapis for buf; their Python modules come from
# googleapis-common-protos, so only the project's own are generated.
PROTOS := $(shell find proto/coop -name '*.proto')

.PHONY: help venv proto proto-check native run test test-unit test-worker test-deploy lint bench clean migrate images

help:
	@echo "make run    set up and run the platform (api + worker per service)"
	@echo "make test   run the whole test suite (unit, service, integration, reliability, e2e, deploy checks)"
	@echo "make bench  run the benchmarks and write bench/results/*.json"

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q "grpcio-tools==1.85.1" "protobuf==7.36.2" "googleapis-common-protos==1.76.0"
	$(MAKE) --no-print-directory proto
	$(PIP) install -q -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

# Stubs are generated, never committed: gen/ is rebuilt whenever a .proto changes.
gen/.stamp: $(PROTOS)
	rm -rf gen && mkdir -p gen
	$(PY) -m grpc_tools.protoc -Iproto --python_out=gen --pyi_out=gen --grpc_python_out=gen $(PROTOS)
	find gen -type d -exec touch {}/__init__.py \;
	rm -f gen/__init__.py
	touch gen/.stamp

proto: gen/.stamp

# buf lint (STANDARD rules) and buf breaking against the last release's protos (WIRE_JSON:
# wire and JSON compatibility, since events travel as protobuf JSON). Part of `make test`.
proto-check:
	bash scripts/ensure_tools.sh >/dev/null || true
	bash scripts/proto_check.sh

# The native libraries the services load (libsodium23, libdecaf0), installed through apt when
# missing: without libdecaf the elections' proof checks fall back to libsodium, 1.3-3x slower.
native:
	bash scripts/ensure_tools.sh --libraries

run: venv proto native
	$(PY) -m coop_cli.devrun

migrate: venv proto
	$(VENV)/bin/coop migrate

test: venv proto
	bash scripts/test.sh

# The Compose stack's images (one per service, plus PostgreSQL/RabbitMQ/Prometheus from Debian's
# packages where Docker Hub cannot be reached): cached, see deploy/docker/build_images.sh.
images: venv proto
	bash scripts/ensure_docker.sh
	bash deploy/docker/build_images.sh

lint: venv
	$(VENV)/bin/ruff check services tests bench

bench: venv proto native
	$(PY) -m bench.run

clean:
	rm -rf gen $(VENV) .pytest_cache var .tools build
