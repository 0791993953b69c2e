// Imported first by the benchmarks: the handlers' loggers read these when their modules load.
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
