// The sample and state model lives in src/shared (the webview draws it); re-exported here so the
// monitor's users see one module.
export type {
  ResourceFigure,
  Sample,
  MonitorState,
  DiskFigure,
  DiskBreakdown,
  StatsBudget,
  UnrotatedLog,
} from '../../shared/monitor';
export type { Unsubscribe } from '../util/emitter';
