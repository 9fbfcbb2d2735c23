# govhall — the two commands: `make run` and `make test`. Both set up everything they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SYSTEM_PACKAGES := redis-server postgresql chromium fonts-noto-cjk fonts-wqy-zenhei

.PHONY: run test test-fast setup vendor system-deps lint bench screenshots clean

$(VENV)/.installed: pyproject.toml tests/sample_vendor/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]'
	$(BIN)/pip install -q --disable-pip-version-check ./tests/sample_vendor
	touch $@

# npm packages (package.json): the accessibility test's axe-core, and the sources of `make vendor`.
# No install scripts: none is needed, and swagger-ui-dist's @scarf/scarf would report the install.
node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

# The front-end libraries the pages load (htmx, ECharts, Bootstrap, Bootstrap Icons, and Swagger
# UI for the API's /schema) are committed, minified, in web/static/vendor/ with their licences,
# so a checkout, `pip install .` and the wheel serve them with no npm and no CDN. After changing a version in package.json, `make vendor`
# copies the new files in; commit them (tests/packaging checks they are the pinned versions).
vendor: node_modules/.installed
	rm -rf web/static/vendor
	mkdir -p web/static/vendor/bootstrap-icons web/static/vendor/licenses
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/echarts/dist/echarts.min.js web/static/vendor/
	cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/js/bootstrap.bundle.min.js web/static/vendor/
	cp -r node_modules/bootstrap-icons/font/bootstrap-icons.min.css node_modules/bootstrap-icons/font/fonts web/static/vendor/bootstrap-icons/
	for p in htmx.org echarts bootstrap bootstrap-icons; do cp node_modules/$$p/LICENSE web/static/vendor/licenses/$$p.txt; done
	cp node_modules/echarts/NOTICE web/static/vendor/licenses/echarts-NOTICE.txt
	cp node_modules/echarts/licenses/LICENSE-d3 web/static/vendor/licenses/echarts-d3.txt
	mkdir -p web/static/vendor/swagger-ui
	for f in swagger-ui-bundle.js swagger-ui-standalone-preset.js swagger-ui.css; do sed '/^\/\/# sourceMappingURL=/d; s|/\*# sourceMappingURL=[^*]*\*/||' node_modules/swagger-ui-dist/$$f > web/static/vendor/swagger-ui/$$f; done
	cp node_modules/swagger-ui-dist/LICENSE web/static/vendor/licenses/swagger-ui-dist.txt
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js.LICENSE.txt web/static/vendor/licenses/swagger-ui-dist-bundled.txt

setup: $(VENV)/.installed

# Debian packages the tests start for real: Redis, PostgreSQL, Chromium (and CJK fonts).
system-deps:
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	[ -d /usr/share/fonts/opentype/noto ] || missing="$$missing fonts-noto-cjk"; \
	[ -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || missing="$$missing fonts-wqy-zenhei"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

run: setup
	$(BIN)/govhall db upgrade
	$(BIN)/govhall tenants apply tenants/
	$(BIN)/govhall serve --demo

# Style, types (mypy: strict on core/), the layers of docs/architecture.md and no import
# cycles in core.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m tests.lint_imports

test: setup system-deps node_modules/.installed lint
	$(BIN)/pytest

test-fast: setup
	$(BIN)/pytest -m "not postgres and not e2e and not redis and not packaging"

# GOVHALL_BENCH_ONLY=catalog|import|cases|supervision|memory|load runs one part; the load run
# (Locust, the bench extra) takes GOVHALL_BENCH_LOAD_CLIENTS=50,200,500 and
# GOVHALL_BENCH_LOAD_SECONDS=60 (docs/performance.md, "Load").
bench: setup system-deps
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test,bench]'
	$(BIN)/python -m tests.benchmarks $(BACKENDS)

# Desktop and phone pictures of the portal at two counties, for docs/screenshots/ and the README.
screenshots: setup system-deps
	$(BIN)/python -m tests.screenshots docs/screenshots

clean:
	rm -rf $(VENV) node_modules var .pytest_cache

# The production layout under faults (docs/operations.md, "Faults and retries"): two web
# processes, two workers and a scheduler on PostgreSQL, Redis and S3 while a worker is killed,
# Redis stopped and PostgreSQL restarted; prints what was lost, duplicated or orphaned.
# GOVHALL_SOAK_APPLICATIONS=N sets its size. Not part of `make test`.
.PHONY: soak
soak: setup system-deps
	$(BIN)/python -m tests.benchmarks.soak
