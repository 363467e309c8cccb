/** Versioned schema steps. Never edit a released step: append a new one. */
export const MIGRATIONS: string[] = [
  `CREATE TABLE runs (
     id TEXT PRIMARY KEY,
     kind TEXT NOT NULL,
     name TEXT,
     argv TEXT NOT NULL,
     cwd TEXT,
     uid INTEGER,
     user TEXT,
     host TEXT,
     supervisor_pid INTEGER,
     supervisor_starttime INTEGER,
     sentinel_pid INTEGER,
     sentinel_starttime INTEGER,
     containment TEXT,
     cgroup TEXT,
     config TEXT,
     started_at INTEGER NOT NULL,
     ended_at INTEGER,
     status TEXT NOT NULL,
     stop_reason TEXT,
     exit_code INTEGER
   );
   CREATE TABLE jobs (
     id TEXT PRIMARY KEY,
     run_id TEXT NOT NULL REFERENCES runs(id),
     role TEXT NOT NULL,
     name TEXT NOT NULL,
     argv TEXT NOT NULL,
     gpus TEXT,
     cgroup TEXT,
     item TEXT,
     stage TEXT,
     log_path TEXT,
     state TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     started_at INTEGER,
     ended_at INTEGER,
     exit_code INTEGER,
     signal TEXT,
     stop_reason TEXT
   );
   CREATE INDEX jobs_run ON jobs(run_id);
   CREATE TABLE attempts (
     id INTEGER PRIMARY KEY,
     job_id TEXT NOT NULL REFERENCES jobs(id),
     run_id TEXT NOT NULL,
     n INTEGER NOT NULL,
     pid INTEGER,
     starttime INTEGER,
     pgid INTEGER,
     sid INTEGER,
     cgroup TEXT,
     started_at INTEGER NOT NULL,
     ended_at INTEGER,
     exit_code INTEGER,
     signal TEXT,
     stop_reason TEXT,
     leftovers TEXT
   );
   CREATE INDEX attempts_job ON attempts(job_id);
   CREATE TABLE registry (
     pid INTEGER NOT NULL,
     starttime INTEGER NOT NULL,
     run_id TEXT NOT NULL,
     job_id TEXT,
     ppid INTEGER,
     uid INTEGER,
     comm TEXT,
     cmdline TEXT,
     how TEXT,
     first_seen INTEGER NOT NULL,
     gone_at INTEGER,
     PRIMARY KEY (pid, starttime)
   );
   CREATE INDEX registry_run ON registry(run_id);
   CREATE TABLE events (
     id INTEGER PRIMARY KEY,
     run_id TEXT NOT NULL,
     job_id TEXT,
     at INTEGER NOT NULL,
     kind TEXT NOT NULL,
     data TEXT
   );
   CREATE INDEX events_run ON events(run_id);
   CREATE INDEX events_at ON events(at);`,
  // 2: boot-relative clocks. Ages and "active when it started" compare clock ticks since boot (the unit
  // of /proc/PID/stat), never the wall clock, and identities from another boot never match.
  `ALTER TABLE runs ADD COLUMN boot_id TEXT;
   ALTER TABLE runs ADD COLUMN start_ticks INTEGER;
   ALTER TABLE runs ADD COLUMN end_ticks INTEGER;
   CREATE INDEX runs_ticks ON runs(start_ticks);`,
];
