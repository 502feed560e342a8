# Targets shared by people and CI (CI runs .ci/run, which runs scripts/test.sh).
.PHONY: setup build asterisk js demo test lint typecheck bench clean

setup:          ## create .venv and install the project (compiled) with dev tools
	bash scripts/bootstrap.sh

build:          ## recompile the mypyc modules after editing them
	.venv/bin/python -m pip install -q --no-deps -e .

asterisk:       ## build the pinned Asterisk once per machine (cached; docs/voice.md)
	bash scripts/asterisk.sh

js:             ## rebuild the bundled browser libraries (npm ci + esbuild; docs/voice.md)
	bash scripts/build_js.sh

demo:           ## set up and run the live demo center (Ctrl-C stops it)
	bash scripts/demo.sh

test:           ## lint + format check + mypy + the whole test suite
	bash scripts/test.sh

lint:
	.venv/bin/ruff check src tests bench && .venv/bin/ruff format --check src tests bench

typecheck:
	.venv/bin/mypy

bench:          ## every benchmark in bench/ (minutes)
	.venv/bin/python bench/bench_cli.py
	.venv/bin/python bench/bench_routing.py
	.venv/bin/python bench/bench_sim.py
	.venv/bin/python bench/bench_kpi.py
	.venv/bin/python bench/bench_speech_metrics.py
	.venv/bin/python bench/bench_speech_asr.py --repeat 2
	.venv/bin/python bench/bench_speech_long.py
	.venv/bin/python bench/eval_harper_valley.py
	.venv/bin/python bench/bench_wallboard.py
	.venv/bin/python bench/bench_chats.py
	.venv/bin/python bench/bench_abuse.py

clean:
	rm -rf build out .mypy_cache .ruff_cache .pytest_cache
	find src -name '*.so' -delete
