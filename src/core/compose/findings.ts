// What a compose check reports: the finding shape, the rule table and the check options. It
// imports no YAML types, so the public declarations that name a finding load no parser.
import type { TextEdit } from './textEdit';

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  rule: string;
  severity: Severity;
  message: string;
  /** 1-based. */
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  /** Offsets into the text that was checked. */
  offset: number;
  endOffset: number;
  service?: string;
  fix?: { title: string; edits: TextEdit[] };
}

/** A finding about the file as a whole (it could not be read, or not fully checked), at its start. */
export function fileFinding(severity: Severity, message: string): Finding {
  return {
    rule: 'compose-structure',
    severity,
    message,
    line: 1,
    column: 1,
    endLine: 1,
    endColumn: 1,
    offset: 0,
    endOffset: 0,
  };
}

export interface CheckOptions {
  /** `auto` (default): a file whose name or folder says test by word is a test file (see isTestFile). */
  fileKind?: 'test' | 'dev' | 'base' | 'auto';
  /** With `auto`: globs naming the test files, instead of the word rule. */
  testGlobs?: readonly string[];
  /**
   * The daemon is shared (CI runners, several projects): durability shortcuts in PostgreSQL
   * are reported. Default true: that is the environment this tool exists for.
   */
  sharedEnvironment?: boolean;
  /** Reads a file named by `extends.file` (absolute path); without it such services are not judged on what they lack. */
  readFile?: (path: string) => string | undefined;
}

/** Every rule, for documentation and for editors that list them. */
export const RULES = {
  'yaml-syntax': 'The file is not valid YAML.',
  'compose-structure':
    'The document is not a compose file: top level, `services` or a service is not a mapping.',
  'multi-document': 'Several YAML documents in one file: compose v1 refuses them.',
  'unknown-key': 'A key compose does not know (often a typo); compose refuses the file.',
  'interpolation-syntax': 'A `${` without its closing `}`: compose refuses the file.',
  tmpfs: 'tmpfs mounts live in RAM: under load they exhaust memory, the classic cause of flaky tests.',
  'resource-limits': 'A service without a memory or CPU limit can starve every other container.',
  'mixed-resource-keys':
    'mem_limit/mem_reservation next to a deploy.resources section without memory: compose v1 drops them.',
  'limits-below-reservations': 'A limit below its reservation: the engine refuses to create the container.',
  healthcheck: 'No healthcheck: nothing can wait for readiness, so tests race the service start.',
  'log-rotation': 'json-file logs without max-size grow until the disk is full.',
  'restart-in-test':
    '`restart: always`/`unless-stopped` in a test file brings containers back after the run.',
  'postgres-durability':
    'PostgreSQL with fsync, full_page_writes or synchronous_commit off on a shared daemon.',
  'postgres-shared-buffers': 'PostgreSQL shared_buffers above a quarter of the memory limit.',
  'fixed-container-name': 'A fixed container_name in a test file: two runs at once collide.',
  'fixed-host-port': 'A fixed host port in a test file: two runs at once collide.',
  'legacy-format':
    'The legacy version 1 format (services at the top level): no healthcheck, deploy or logging keys exist in it.',
  'image-variant':
    'An official image that publishes a slim or alpine variant of the same version: a smaller pull per run.',
} as const;
export type RuleId = keyof typeof RULES;
