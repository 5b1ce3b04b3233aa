import type { Command } from '../util';
import { statusCommand } from './status';
import { watchCommand } from './watch';
import { historyCommand } from './history';

/** Every CLI command, in the order `help` lists them. Each lives in its own file. */
export const commands: Command[] = [
  statusCommand,
  watchCommand,
  historyCommand,
];
