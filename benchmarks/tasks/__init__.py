"""The measurements, each run by `benchmarks.worker` in its own process with the
settings module of the site it measures. Each returns a JSON-able dict."""
