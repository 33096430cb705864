"""Operational commands for Kubernetes Jobs and CronJobs: `python -m tracker.commands ...`.

    migrate [--wait SECONDS]                 apply schema migrations (a Job before rollout)
    archive [--date YYYY-MM-DD]              archive a day (default: yesterday UTC, plus
                                             every hot day past retention) and prune
    calibrate                                refit confidence calibration now
    reliability-diagram --out F.png [--symbol S]
                                             write a reliability diagram (PNG)
    list-archives [--start-date D] [--end-date D] [--limit N]
                                             print archive manifests, newest first
    track-outcomes [--once]                  run outcome tracking (a worker, or one pass)

They read the same environment as the service (and its ARGO_CONFIG tunables, once).
Results go to stdout as JSON, logs to stderr. Exit status: 0 done; 1 failed (database,
archive or gateway unavailable, archive verification failed, nothing to report); 2 bad
usage or configuration. With PROMETHEUS_PUSHGATEWAY_URL set, each run pushes its metrics
(e.g. argo_tracker_archive_failures_total) to that Pushgateway as job "tracker-<command>".
"""
