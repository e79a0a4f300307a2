# Entry points for a fresh machine: `make demo` and `make test` (both run `setup` first).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

UV_VERSION := 0.13.8
PYTHON := python3.11
VENV := .venv
# The interpreter comes from the machine; uv must never download one.
export UV_PYTHON_DOWNLOADS := never

# Debian packages the tests need, installed by `make system-packages` only when missing.
# The 前置库 tests start a real PostgreSQL server: install it unless its binaries are present.
# The scorecard tests render the report in headless Chromium, with a Chinese font.
SYSTEM_PACKAGES := $(if $(or $(shell command -v initdb 2>/dev/null),$(wildcard /usr/lib/postgresql/*/bin/initdb)),,postgresql) \
	chromium fonts-noto-cjk
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: help setup om-env system-packages demo test lint clean

help:
	@echo "make demo    安装并在内置的合成滨州上运行主流程"
	@echo "make test    安装并运行全部测试（ruff + pytest）"
	@echo "make lint    代码检查与格式检查"
	@echo "make clean   删除 work/ 和缓存（保留 .venv）"

# Uses `uv` from PATH when it is the pinned version, else that version installed for the user
# (a --user install leaves the system's packages alone, hence PIP_BREAK_SYSTEM_PACKAGES).
setup: system-packages
	@uv_cmd=uv; \
	if [ "$$(uv --version 2>/dev/null | cut -d' ' -f2)" != "$(UV_VERSION)" ]; then \
		uv_cmd="python3 -m uv"; \
		if [ "$$($$uv_cmd --version 2>/dev/null | cut -d' ' -f2)" != "$(UV_VERSION)" ]; then \
			echo "安装 uv $(UV_VERSION)…"; \
			PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install -q --user 'uv==$(UV_VERSION)'; \
		fi; \
	fi; \
	$$uv_cmd sync --frozen --python $(PYTHON)

system-packages:
	@missing=""; \
	for pkg in $(SYSTEM_PACKAGES); do \
		dpkg -s "$$pkg" >/dev/null 2>&1 || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "安装系统软件包：$$missing"; \
		$(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q $$missing; \
	fi

# The OpenMetadata publisher's own environment (STACK.md: the SDK breaks sqlfluff in .venv).
# Synced only when the pinned requirements changed since the last sync (hash in the stamp file).
OM_VENV := .venv-om
OM_REQUIREMENTS := envs/openmetadata/requirements.txt
om-env: setup
	@uv_cmd=uv; [ "$$(uv --version 2>/dev/null | cut -d' ' -f2)" = "$(UV_VERSION)" ] || uv_cmd="python3 -m uv"; \
	want="$$(sha256sum $(OM_REQUIREMENTS) | cut -d' ' -f1)"; \
	if [ "$$(cat $(OM_VENV)/.requirements.sha256 2>/dev/null)" != "$$want" ]; then \
		echo "安装 OpenMetadata 发布环境 $(OM_VENV)…"; \
		$$uv_cmd venv -q --allow-existing --python $(PYTHON) $(OM_VENV); \
		$$uv_cmd pip sync -q --python $(OM_VENV)/bin/python $(OM_REQUIREMENTS); \
		echo "$$want" > $(OM_VENV)/.requirements.sha256; \
	fi

demo: setup om-env
	$(VENV)/bin/bzdata demo

# pytest exits 5 when it collects no tests: that is a failure here, never a green run.
test: setup om-env
	$(VENV)/bin/ruff check .
	$(VENV)/bin/sqlfluff lint dbt_project/models --disable-progress-bar --nocolor
	@$(VENV)/bin/python -m pytest -q || { rc=$$?; \
		if [ $$rc -eq 5 ]; then echo "没有收集到任何测试：按失败处理" >&2; fi; \
		exit $$rc; }

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf work tests/artifacts .pytest_cache .ruff_cache
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
