# Two commands: `make run` and `make test`. Everything else they need, they set up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
STAMP := $(VENV)/.installed

.PHONY: install run demo test test-sqlite test-postgres lint format clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(FLASK) db upgrade
	$(FLASK) plan load
	$(FLASK) users demo
	@echo "打开 http://127.0.0.1:5000 ，用上面的演示账号登录。"
	$(FLASK) run --host 127.0.0.1 --port 5000

# The same as run, on its own SQLite file, with labelled demo progress, as of 2024-06-20.
DEMO_ENV := DATABASE_URL=sqlite:///$(CURDIR)/instance/demo.sqlite3 TRACKER_NOW=2024-06-20
demo: install
	$(DEMO_ENV) $(FLASK) db upgrade
	$(DEMO_ENV) $(FLASK) plan load
	$(DEMO_ENV) $(FLASK) users demo
	$(DEMO_ENV) $(FLASK) demo generate || true
	@echo "演示库 instance/demo.sqlite3，系统日期 2024-06-20。打开 http://127.0.0.1:5000 ，用上面的演示账号登录。"
	$(DEMO_ENV) $(FLASK) run --host 127.0.0.1 --port 5000

# The suite runs twice: on SQLite, then on a throw-away PostgreSQL database.
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) test-sqlite
	$(MAKE) test-postgres

test-sqlite: install
	$(BIN)/pytest

test-postgres: install
	bash .ci/with-postgres $(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
