from stridebeat.cli import run

run()
