"""Local stand-ins for cloud APIs, served over real HTTP for tests, the benchmark and the demo."""
