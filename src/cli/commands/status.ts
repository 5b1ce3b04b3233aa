import { levelIndex, parseLevel } from '../../core/levels';
import { ResourceMonitor } from '../../core/monitor/monitor';
import { loadCliConfig, monitorSettingsFrom } from '../config';
import { renderSample } from '../render';
import { CliError, createClient, dockerOptions, ExitCode, parse, printJson, useColor, type Command } from '../util';

const usage = 'docker-stability status [--json] [--fail-on LEVEL] [--config F] [--host H]';

export const statusCommand: Command = {
  name: 'status',
  summary: 'Take one sample of the daemon and rate it (a CI gate with --fail-on).',
  usage,
  async run(argv) {
    const { values } = parse(
      argv,
      { options: { ...dockerOptions, json: { type: 'boolean' }, 'fail-on': { type: 'string' }, config: { type: 'string' } } },
      usage,
    );
    let failOn;
    try {
      failOn = values['fail-on'] === undefined ? undefined : parseLevel(values['fail-on']);
    } catch (err) {
      throw new CliError((err as Error).message, ExitCode.usage);
    }
    const settings = monitorSettingsFrom(loadCliConfig(values.config));
    const monitor = new ResourceMonitor(createClient(values), settings);
    try {
      const sample = await monitor.sampleNow();
      if (values.json) printJson(sample);
      else process.stdout.write(renderSample(sample, { color: useColor() }) + '\n');
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
