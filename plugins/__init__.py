"""Built-in plugins. Each module is an ordinary pluggy plugin registered under its module name."""
