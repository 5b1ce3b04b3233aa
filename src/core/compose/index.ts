/** The compose side of docker-stability: the standard, the rules, apply, and the compose tool. */
export { STANDARD, type Variant } from './standard';
export {
  imageKind,
  parseImageRef,
  knownHealthcheck,
  knownProbe,
  memoryNeed,
  type ImageKind,
  type ImageRef,
  type MemoryNeed,
  type Probe,
} from './images';
export {
  checkCompose,
  fileFinding,
  RULES,
  type RuleId,
  type Severity,
  type Finding,
  type CheckOptions,
} from './rules';
export { applyFix, type TextEdit } from './textEdit';
export { servicePatch } from './patches';
export {
  planApply,
  writeApply,
  overridePath,
  isOverrideFile,
  variantFor,
  OVERRIDE_SUFFIX,
  type ApplyPlan,
  type PlanOptions,
} from './apply';
export { loadedFiles, DEFAULT_FILE_NAMES, DEFAULT_OVERRIDE_NAMES, type LoadedFiles } from './files';
export { readComposeFile, readComposeText, MAX_COMPOSE_BYTES, type ReadResult } from './read';
export { isTestFile, validateTestGlobs, TEST_WORDS } from './testFiles';
export {
  detectComposeTool,
  validateWithCompose,
  runCompose,
  type ComposeTool,
  type ComposeRunOptions,
} from './tool';
export { unifiedDiff } from './diff';
