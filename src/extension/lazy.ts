// Modules loaded on first use, not at activation: the cleanup planner, the compose rules
// (with the YAML parser) and the run records cost startup time that most sessions never need. The `.js` suffix is
// what Node16 resolution wants for a dynamic import; esbuild maps it to the .ts source.
export const loadCleanup = () => import('../core/cleanup/index.js');
export const loadCompose = () => import('../core/compose/index.js');
export const loadRuns = () => import('../core/runs/index.js');
