/** Labels docker-stability sets and reads. Ownership decisions hinge on these; see docs/cleanup.md. */
export const Labels = {
  /** Set by `docker-stability run` on what it starts, and adoptable by the caller's own containers. */
  runId: 'docker-stability.run-id',
  /** Stamped beside the run id by a run's own DOCKER_HOST: the pid of the process that owns the run. */
  runPid: 'docker-stability.run-pid',
  /** The pid space `runPid` lives in (host name, boot id, pid-namespace inode: lock/process hostId). */
  runHost: 'docker-stability.run-host',
  /** Default protect label: resources carrying `<protect>=true` are never removed. */
  protect: 'docker-stability.protect',
  composeProject: 'com.docker.compose.project',
  testcontainersSession: 'org.testcontainers.session-id',
  testcontainersRyuk: 'org.testcontainers.ryuk',
  testcontainersReuse: 'org.testcontainers.reuse-hash',
  testcontainers: 'org.testcontainers',
} as const;

/** A Docker label key as docker-stability accepts one in settings (e.g. the protect label). */
export const LABEL_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;
