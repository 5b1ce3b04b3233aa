import { readAgentPresence } from '../../core/agent/presence';
import { SharedMonitor } from '../../core/monitor/shared';
import type { MonitorState, Sample } from '../../core/monitor/types';
import { defaultHistoryFile } from '../../core/paths';
import { formatDuration } from '../../core/util/duration';
import { stripControlChars } from '../../core/util/terminalText';
import { monitorSettingsFrom } from '../config';
import { renderConsumers, renderSample, sampleLine } from '../render';
import { createClient, ExitCode, parseNumber, useColor, type Command } from '../util';
import { parseCommand } from '../options';

const usage = 'docker-stability watch [--interval S] [--count N] [--top N] [--json] [--config F] [--host H]';

/** The state may come from the leader's file, written by another process: printed stripped. */
function stateLine(s: MonitorState): string {
  return stripControlChars(rawStateLine(s));
}

function rawStateLine(s: MonitorState): string {
  switch (s.status) {
    case 'down':
      return `Docker is not reachable at ${s.endpoint}: ${s.reason} (since ${s.since}; retrying in ${formatDuration(s.retryInMs)})`;
    case 'up':
      return `Watching ${s.endpoint}`;
    default:
      return `${s.status}: ${s.endpoint}`;
  }
}

export const watchCommand: Command = {
  name: 'watch',
  summary:
    'Live view of the daemon: levels, bars and a sparkline of recent history (plain lines when not a TTY).',
  usage,
  async run(argv) {
    const { values, config } = parseCommand(argv, usage, {
      interval: { type: 'string' },
      count: { type: 'string' },
      top: { type: 'string' },
    });
    const settings = monitorSettingsFrom(config);
    const interval = parseNumber(values.interval, 'interval', 0.25, 3600);
    if (interval !== undefined) settings.intervalMs = interval * 1000;
    const count = parseNumber(values.count, 'count', 1);
    const top = parseNumber(values.top, 'top', 0, 1000);
    if (top !== undefined) settings.topConsumers = Math.max(settings.topConsumers, Math.floor(top));
    const client = createClient(values);
    // Several terminals and VS Code windows on one machine share one sampler (see SharedMonitor).
    // A running agent is the host's sampler: a terminal follows it, and leads again once it stops.
    const monitor = new SharedMonitor(client, settings, {
      historyFile: defaultHistoryFile(client.endpoint.host),
      defer: async () => (await readAgentPresence(client.endpoint.host)).running,
    });
    const tty = !!process.stdout.isTTY && !values.json;
    const color = useColor();
    let seen = 0;
    let lastState = '';

    const draw = (sample: Sample | undefined): void => {
      const lines: string[] = [];
      const st = monitor.state;
      if (st.status !== 'up') lines.push(stateLine(st));
      if (sample) lines.push(renderSample(sample, { color, bars: true, history: monitor.history.toArray() }));
      if (sample && top) lines.push(renderConsumers(sample, top));
      const role =
        monitor.role === 'leader' ? 'sampling' : 'following the sampler of another window or terminal';
      lines.push('', `${role}; Ctrl+C to stop`);
      // Home, clear to end of screen: redraw in place without scrolling.
      process.stdout.write(`\x1b[H\x1b[J${lines.join('\n')}\n`);
    };

    return new Promise<number>((resolve) => {
      const finish = (code: number): void => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        if (tty) process.stdout.write('\x1b[?25h');
        void monitor.dispose().then(() => resolve(code));
      };
      const onSignal = (): void => finish(ExitCode.ok);
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      if (tty) process.stdout.write('\x1b[?25l\x1b[2J');

      monitor.onState((s) => {
        const line = stateLine(s);
        if (tty) draw(monitor.history.latest());
        else if (line !== lastState && s.status !== 'disposed') {
          if (values.json) process.stdout.write(JSON.stringify({ state: s }) + '\n');
          else process.stderr.write(line + '\n');
        }
        lastState = line;
      });
      monitor.onSample((s) => {
        if (tty) draw(s);
        else if (values.json) process.stdout.write(JSON.stringify(s) + '\n');
        else process.stdout.write(sampleLine(s) + '\n' + (top ? renderConsumers(s, top) + '\n' : ''));
        if (count !== undefined && ++seen >= count) finish(ExitCode.ok);
      });
      monitor.start();
    });
  },
};
