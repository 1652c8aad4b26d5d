# Two commands: `make run` and `make test`. Everything else they need, they set up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
STAMP := $(VENV)/.installed

.PHONY: install translations run demo test test-sqlite test-postgres test-e2e browser redis lint format clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The English interface: compiled from the .po whenever it changes (the .mo is not committed).
PO := tracker/translations/en/LC_MESSAGES/messages.po
MO := $(PO:.po=.mo)

$(MO): $(PO) $(STAMP)
	$(BIN)/pybabel compile -d tracker/translations

install: $(STAMP) $(MO)

# Refresh the catalogue after changing interface strings: extract, merge into the .po; then translate.
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output -o messages.pot .
	$(BIN)/pybabel update -i messages.pot -d tracker/translations --no-fuzzy-matching
	rm messages.pot

# PORT=5001 make run serves on that port; reminder links follow it unless BASE_URL is set (tracker/config.py).
PORT ?= 5000
export PORT

# The embedded setup's own random session key, made once (tracker/config.py reads it when SECRET_KEY
# is unset), so `make run` never signs sessions with the development key. Production sets SECRET_KEY.
instance/secret_key:
	mkdir -p instance
	umask 077 && $(PYTHON) -c 'import secrets; print(secrets.token_hex(32))' > $@.tmp && mv $@.tmp $@

run: install instance/secret_key
	$(FLASK) db upgrade
	$(FLASK) plan load --if-missing
	$(FLASK) users demo
	@echo "打开 http://127.0.0.1:$(PORT) ，用上面的演示账号登录。定时任务进程（提醒、发件箱）同时在后台运行。"
	@# The scheduler runs as its own process beside the web server; leaving the server stops both.
	trap 'trap - EXIT INT TERM; kill 0 2>/dev/null || true' EXIT INT TERM; \
	  $(FLASK) scheduler run & \
	  $(FLASK) run --host 127.0.0.1 --port $(PORT)

# The same as run, on its own SQLite file, with labelled demo progress, as of 2024-06-20.
DEMO_ENV := DATABASE_URL=sqlite:///$(CURDIR)/instance/demo.sqlite3 TRACKER_NOW=2024-06-20
demo: install instance/secret_key
	$(DEMO_ENV) $(FLASK) db upgrade
	$(DEMO_ENV) $(FLASK) plan load --if-missing
	$(DEMO_ENV) $(FLASK) users demo
	$(DEMO_ENV) $(FLASK) demo generate --if-empty
	@echo "演示库 instance/demo.sqlite3，系统日期 2024-06-20。打开 http://127.0.0.1:$(PORT) ，用上面的演示账号登录。"
	$(DEMO_ENV) $(FLASK) run --host 127.0.0.1 --port $(PORT)

# The suite runs twice: on SQLite and on a throw-away PostgreSQL database, the two passes side by side
# (one per core; each keeps its own temporary directory, each test its own ports, Redis keys and
# LibreOffice profile), each pass's output printed whole when it ends.
# The end-to-end tests (marked e2e) run once, in the SQLite pass: they start the app as `make run` does.
# So does the province-scale test (marked province: a 20,000-task plan, slow to insert and load).
test: install browser redis
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

TEST_TMP := $(or $(TMPDIR),/tmp)/tracker-tests-$(shell id -u)

test-sqlite: install browser redis
	mkdir -p $(TEST_TMP)
	$(BIN)/pytest -p no:cacheprovider --basetemp=$(TEST_TMP)/sqlite

test-postgres: install redis
	mkdir -p $(TEST_TMP)
	bash .ci/with-postgres $(BIN)/pytest -p no:cacheprovider --basetemp=$(TEST_TMP)/postgres -m "not e2e and not province"

test-e2e: install browser
	$(BIN)/pytest -m e2e

# Debian's Chromium and CJK fonts for the end-to-end tests (Playwright drives it; it downloads no browser),
# LibreOffice for the bulletin's PDF and the workbooks' print check, poppler-utils to read PDFs back.
browser:
	@command -v chromium >/dev/null 2>&1 && command -v soffice >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 && \
	  fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk \
	    libreoffice-writer-nogui libreoffice-calc-nogui poppler-utils >/dev/null)

# Redis at 127.0.0.1:6379: what several workers share (the API rate limit); tests marked "redis" use it.
redis:
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || { \
	  command -v redis-server >/dev/null 2>&1 || \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null); \
	  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no; \
	  for i in $$(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done; }

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
