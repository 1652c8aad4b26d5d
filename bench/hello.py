"""The yardstick of bench/load.py: a bare Flask app answering "hello", served the same way as the tracker."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "hello"
