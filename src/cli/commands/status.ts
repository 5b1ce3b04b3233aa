import { levelIndex, parseLevel } from '../../core/levels';
import { ResourceMonitor } from '../../core/monitor/monitor';
import { loadCliConfig, monitorSettingsFrom } from '../config';
import { renderConsumers, renderSample } from '../render';
import { CliError, createClient, dockerOptions, ExitCode, parse, parseNumber, printJson, useColor, type Command } from '../util';

const usage = 'docker-stability status [--json] [--top N] [--fail-on LEVEL] [--config F] [--host H]';

export const statusCommand: Command = {
  name: 'status',
  summary: 'Take one sample of the daemon and rate it (a CI gate with --fail-on).',
  usage,
  async run(argv) {
    const { values } = parse(
      argv,
      { options: { ...dockerOptions, json: { type: 'boolean' }, top: { type: 'string' }, 'fail-on': { type: 'string' }, config: { type: 'string' } } },
      usage,
    );
    let failOn;
    try {
      failOn = values['fail-on'] === undefined ? undefined : parseLevel(values['fail-on']);
    } catch (err) {
      throw new CliError((err as Error).message, ExitCode.usage);
    }
    const top = parseNumber(values.top, 'top', 0, 1000);
    const settings = monitorSettingsFrom(loadCliConfig(values.config));
    if (top !== undefined) settings.topConsumers = Math.floor(top);
    const monitor = new ResourceMonitor(createClient(values), settings);
    try {
      const sample = await monitor.sampleNow();
      if (values.json) printJson(sample);
      else {
        const text = renderSample(sample, { color: useColor() });
        process.stdout.write((top ? `${text}\n${renderConsumers(sample, top)}` : text) + '\n');
      }
      if (failOn && levelIndex(sample.level) >= levelIndex(failOn)) {
        process.stderr.write(`docker-stability: level ${sample.level} is at or above ${failOn}\n`);
        return ExitCode.failure;
      }
      return ExitCode.ok;
    } finally {
      await monitor.dispose();
    }
  },
};
