/** The compose side of docker-stability: the standard, the rules, apply, and the compose tool. */
export { STANDARD, knownHealthcheck, isPostgresImage, type Variant } from './standard';
export { checkCompose, RULES, type RuleId, type Severity, type Finding, type CheckOptions } from './rules';
export { applyFix, type TextEdit } from './textEdit';
export { planApply, writeApply, overridePath, isOverrideFile, variantFor, servicePatch, OVERRIDE_SUFFIX, type ApplyPlan } from './apply';
export { detectComposeTool, validateWithCompose, runCompose, type ComposeTool, type ComposeRunOptions } from './tool';
export { unifiedDiff } from './diff';
