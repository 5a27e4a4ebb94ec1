"""The background queue: the Dramatiq broker, its middleware, and the registry of tasks."""
