import type { Command } from '../util';
import { composeCommand } from './compose';
import { statusCommand } from './status';
import { watchCommand } from './watch';
import { historyCommand } from './history';
import { incidentsCommand } from './incidents';
import { lockCommand } from './lock';
import { runCommandCli } from './run';
import { doctorCommand } from './doctor';
import { cleanupCommand } from './cleanup';
import { agentCommand } from './agent';

/** Every CLI command, in the order `help` lists them. Each lives in its own file. */
export const commands: Command[] = [
  statusCommand,
  watchCommand,
  historyCommand,
  incidentsCommand,
  lockCommand,
  runCommandCli,
  cleanupCommand,
  composeCommand,
  doctorCommand,
  agentCommand,
];
