# Local settings for this project's Makefile: it reads this file first, and `mlplate check`
# and template updates leave it to you. Set a variable here instead of editing the Makefile:
#
# PYTHON = python3.12        # the interpreter `make setup` builds .venv with
# HOST = 0.0.0.0             # where `make serve` listens
# PORT = 8080
# BASE = origin/develop      # the branch `make train-report` compares with
# DVC_REMOTE_URL = s3://other-bucket/path   # push and pull data elsewhere without editing .dvc/config
