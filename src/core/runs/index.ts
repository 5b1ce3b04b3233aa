export * from './records';
export * from './predict';
export * from './testRun';
export * from './modeDecision';
export * from './command';
export * from './frameworks';
