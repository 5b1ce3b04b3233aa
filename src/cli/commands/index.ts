import type { Command } from '../util';
import { statusCommand } from './status';

/** Every CLI command, in the order `help` lists them. Each lives in its own file. */
export const commands: Command[] = [
  statusCommand,
];
