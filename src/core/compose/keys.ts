/**
 * The keys compose knows, in one place. Service and top-level keys are those of the Compose
 * Specification schema (compose-spec/compose-spec `schema/compose-spec.json`, 2026-06), plus the
 * 2.x-format keys docker-compose 1.29 still reads; a test checks them against the schemas that
 * docker-compose 1.29 ships. The legacy version 1 format has its own, smaller set.
 */
export const TOP_LEVEL_KEYS = new Set([
  'version',
  'name',
  'include',
  'services',
  'models',
  'networks',
  'volumes',
  'secrets',
  'configs',
]);

export const SERVICE_KEYS = new Set(
  (
    'annotations attach blkio_config build cap_add cap_drop cgroup cgroup_parent command configs container_name ' +
    'cpu_count cpu_percent cpu_period cpu_quota cpu_rt_period cpu_rt_runtime cpu_shares cpus cpuset credential_spec ' +
    'depends_on deploy develop device_cgroup_rules devices dns dns_opt dns_search domainname entrypoint env_file ' +
    'environment expose extends external_links extra_hosts gpus group_add healthcheck hostname image init ipc isolation ' +
    'labels label_file links logging mac_address mem_limit mem_reservation mem_swappiness memswap_limit models ' +
    'network_mode networks oom_kill_disable oom_score_adj pid pids_limit platform ports post_start pre_stop privileged ' +
    'profiles provider pull_policy pull_refresh_after read_only restart runtime scale secrets security_opt shm_size stdin_open ' +
    'stop_grace_period stop_signal storage_opt sysctls tmpfs tty ulimits use_api_socket user userns_mode uts volumes ' +
    'volume_driver volumes_from working_dir'
  ).split(' '),
);

/** docker-compose 1.29 `config_schema_v1.json`: services at the top level. */
export const LEGACY_SERVICE_KEYS = new Set(
  (
    'build cap_add cap_drop cgroup_parent command container_name cpu_shares cpu_quota cpuset devices dns dns_search ' +
    'dockerfile domainname entrypoint env_file environment expose extends extra_hosts external_links hostname image ipc ' +
    'labels links log_driver log_opt mac_address mem_limit memswap_limit mem_swappiness net pid ports privileged read_only ' +
    'restart security_opt shm_size stdin_open stop_signal tty ulimits user volumes volume_driver volumes_from working_dir'
  ).split(' '),
);

/**
 * Keys people expect but the Compose Specification does not have, with what it has instead: no
 * rename is offered for them (the nearest key by spelling, `restart` for `pre_start`, is not it).
 */
export const NOT_IN_SPEC: ReadonlyMap<string, string> = new Map([
  ['pre_start', 'the specification has no pre_start hook, only post_start and pre_stop'],
]);
