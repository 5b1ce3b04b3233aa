export * from './records';
export * from './predict';
export * from './testRun';
export * from './environment';
export * from './modeDecision';
export * from './command';
export * from './frameworks';
