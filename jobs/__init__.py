"""Background work on a task queue (huey): batch PDF exports, recovery after a crash, clean-up."""
