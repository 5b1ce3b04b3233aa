import type { Command } from '../util';

/** Every CLI command, in the order `help` lists them. Each lives in its own file. */
export const commands: Command[] = [];
