# The README's contract: `make demo` sets everything up and runs the main job; `make test` runs the tests.
VENV ?= .venv
PY := $(VENV)/bin/python
MVN := mvn -q -B
JAVA_SOURCES := $(shell find java_shim converters stack/launcher -name '*.java' -o -name pom.xml) pom.xml stack/kafka-pom.xml stack/dynamodb-local-pom.xml

.PHONY: demo test test-docker up down build venv package lint bench-bridge bench-snapshot bench-eos bench-cdc clean

demo: up
	$(PY) stack/demo.py

test: lint build
	$(MVN) -f pom.xml test
	@$(PY) stack/stack.py up --record .stack/started-by-test; status=$$?; \
	if [ $$status -eq 0 ]; then $(PY) -m pytest tests; status=$$?; fi; \
	$(PY) stack/stack.py down --only .stack/started-by-test; exit $$status

# The integration suite against docker/compose.yaml instead of the local stack, through pytest-docker (builds
# the worker image; needs a Docker engine, and skips every test, saying so, where none answers).
test-docker: venv
	$(PY) -m pytest tests/integration --stack docker -rs

up: build
	$(PY) stack/stack.py up

down:
	@if [ -x $(PY) ]; then $(PY) stack/stack.py down; fi

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

# Java shim, bridge jar into the Python package, plugin and converter jars into the stack's plugin.path, and the
# classpaths of Kafka/Connect and DynamoDB Local resolved from Maven Central (cached in ~/.m2).
build: venv .stack/.built .stack/schema-registry/.unpacked

.stack/.built: $(JAVA_SOURCES)
	$(MVN) -f pom.xml package -DskipTests
	mkdir -p python_connector/jars .stack/plugins/ddb-cdc-source .stack/classpath
	rm -f .stack/plugins/ddb-cdc-source/*.jar
	cp java_shim/bridge/target/ddb-cdc-bridge.jar python_connector/jars/
	cp java_shim/plugin/target/ddb-cdc-source.jar converters/target/ddb-cdc-converters.jar \
	   converters/target/lib/*.jar .stack/plugins/ddb-cdc-source/
	$(MVN) -f stack/kafka-pom.xml dependency:build-classpath -Dmdep.outputFile=$(CURDIR)/.stack/classpath/kafka.txt
	$(MVN) -f stack/dynamodb-local-pom.xml dependency:build-classpath -Dmdep.outputFile=$(CURDIR)/.stack/classpath/dynamodb-local.txt
	touch $@

# The local schema registry (Apicurio Registry, ~140 MB from Maven Central, cached in ~/.m2).
.stack/schema-registry/.unpacked: stack/schema-registry-pom.xml
	$(MVN) -f stack/schema-registry-pom.xml dependency:unpack -Dregistry.dir=$(CURDIR)/.stack/schema-registry
	touch $@

# The Connect plugin archive (Confluent Hub layout) and the engine wheel, under dist/ (no schema registry needed:
# the Docker image builds it too).
package: venv .stack/.built
	$(PY) packaging/package.py

# ruff (with complexity and argument-count rules), mypy on the engine, and the import rules of docs/architecture.md.
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

bench-bridge: build
	$(PY) bench/bridge.py

bench-snapshot: up
	$(PY) bench/snapshot.py

bench-eos: up
	$(PY) bench/eos.py

bench-cdc: up
	$(PY) bench/cdc.py

clean: down
	rm -rf .stack java_shim/*/target converters/target stack/launcher/target python_connector/jars dist
