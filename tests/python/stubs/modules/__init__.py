"""Stand-in for the webui's `modules` package (AUTOMATIC1111 / Forge), for the adapter tests."""
