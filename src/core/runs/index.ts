export * from './records';
export * from './predict';
export * from './testRun';
export * from './command';
export * from './frameworks';
