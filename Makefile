# Two commands: `make run` and `make test`. Everything else they need, they set up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
STAMP := $(VENV)/.installed

.PHONY: install run test test-sqlite test-postgres lint format clean

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
	@echo "打开 http://127.0.0.1:5000 ，用上面的演示账号登录。定时任务进程（提醒、发件箱）同时在后台运行。"
	bash bin/run-dev

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
